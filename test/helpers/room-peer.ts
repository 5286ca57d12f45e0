import {
  AudioFrame,
  AudioSource,
  AudioStream,
  LocalAudioTrack,
  type RemoteTrack,
  Room,
  RoomEvent,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
} from '@livekit/rtc-node';
import { AccessToken, RoomServiceClient } from 'livekit-server-sdk';
import { concatInt16 } from '../../src/audio/pcm.js';
import { cfg, livekitHttpUrl } from './stack.js';

/**
 * Plain participants in a room of the local livekit-server, for tests that check audio goes
 * through it: join, publish a microphone fed from samples, hear what others publish.
 */

export const roomService = () =>
  new RoomServiceClient(livekitHttpUrl, cfg.LIVEKIT_API_KEY, cfg.LIVEKIT_API_SECRET);

async function token(room: string, identity: string): Promise<string> {
  const at = new AccessToken(cfg.LIVEKIT_API_KEY, cfg.LIVEKIT_API_SECRET, { identity, ttl: '10m' });
  at.addGrant({ roomJoin: true, room, canPublish: true, canSubscribe: true });
  return at.toJwt();
}

/** Rooms joined here; `leaveAllRooms` (in afterAll) disconnects them. */
const joined: Room[] = [];

export async function joinRoom(
  roomName: string,
  identity: string,
  opts: { autoSubscribe: boolean; room?: Room },
): Promise<Room> {
  const room = opts.room ?? new Room();
  joined.push(room);
  await room.connect(cfg.LIVEKIT_URL, await token(roomName, identity), {
    autoSubscribe: opts.autoSubscribe,
    dynacast: false,
  });
  return room;
}

/** A room not joined yet, with `hearAudio` listening on it (so no track is missed). */
export function listeningRoom(enough?: (samples: number) => boolean) {
  const room = new Room();
  return { room, ...hearAudio(room, enough) };
}

export async function leaveAllRooms(): Promise<void> {
  await Promise.all(joined.splice(0).map((r) => r.disconnect()));
}

/** Collects the 16 kHz mono audio of every track `room` subscribes to, until `enough` says so. */
function hearAudio(room: Room, enough: (samples: number) => boolean = () => false) {
  const frames: Int16Array[] = [];
  let total = 0;
  const heardEnough = new Promise<void>((resolve) => {
    room.on(RoomEvent.TrackSubscribed, async (track: RemoteTrack) => {
      if (track.kind !== TrackKind.KIND_AUDIO) return;
      for await (const frame of new AudioStream(track, { sampleRate: 16000, numChannels: 1 })) {
        frames.push(new Int16Array(frame.data));
        total += frame.samplesPerChannel;
        if (enough(total)) break;
      }
      resolve();
    });
  });
  return { heardEnough, samples: () => concatInt16(frames) };
}

/** Publishes a microphone track and speaks `samples` (16 kHz mono) into it in real time. */
export async function speakInto(room: Room, samples: Int16Array): Promise<void> {
  const source = new AudioSource(16000, 1);
  await room.localParticipant!.publishTrack(
    LocalAudioTrack.createAudioTrack('caller-mic', source),
    new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }),
  );
  const frameSamples = 160; // 10 ms
  for (let off = 0; off + frameSamples <= samples.length; off += frameSamples) {
    await source.captureFrame(new AudioFrame(samples.slice(off, off + frameSamples), 16000, 1, frameSamples));
  }
}
