import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
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
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryEventSink } from '../../../src/events/index.js';
import { startPipelineCall } from '../../../src/pipeline/call.js';
import { FakeConversation } from '../../../src/pipeline/fake-conversation.js';
import { ensureAgentsLogger } from '../../../src/pipeline/logging.js';
import { loadSileroVad } from '../../../src/pipeline/vad.js';
import { FakeSTT, FakeTTS } from '../../../src/providers/fake/index.js';
import { cfg, livekitHttpUrl } from '../../helpers/stack.js';
import { readPcm16Wav, rmsDbfs } from '../../helpers/wav.js';

/**
 * The same pipeline in a real LiveKit room (the worker's mode): a caller participant speaks
 * the smoke fixture into livekit-server, the agent side runs startPipelineCall on its own
 * Room connection (RoomIO in, published track out), the caller hears the reply.
 * Needs the local stack (`voice-agent stack up`); nothing here skips.
 */

async function token(room: string, identity: string): Promise<string> {
  const at = new AccessToken(cfg.LIVEKIT_API_KEY, cfg.LIVEKIT_API_SECRET, { identity, ttl: '10m' });
  at.addGrant({ roomJoin: true, room, canPublish: true, canSubscribe: true });
  return at.toJwt();
}

const rooms: Room[] = [];
afterAll(async () => {
  await Promise.all(rooms.map((r) => r.disconnect()));
});

describe('pipeline in a LiveKit room', () => {
  it('hears the caller through RoomIO and answers on a published track', async () => {
    ensureAgentsLogger('warn');
    const roomName = `pipeline-${randomUUID().slice(0, 8)}`;
    const svc = new RoomServiceClient(livekitHttpUrl, cfg.LIVEKIT_API_KEY, cfg.LIVEKIT_API_SECRET);
    await svc.createRoom({ name: roomName, emptyTimeout: 30 });
    const agentRoom = new Room();
    const callerRoom = new Room();
    rooms.push(agentRoom, callerRoom);

    // the caller listens to whatever the agent publishes
    const heard: Int16Array[] = [];
    callerRoom.on(RoomEvent.TrackSubscribed, async (track: RemoteTrack) => {
      if (track.kind !== TrackKind.KIND_AUDIO) return;
      for await (const frame of new AudioStream(track, { sampleRate: 16000, numChannels: 1 })) {
        heard.push(new Int16Array(frame.data));
      }
    });
    await callerRoom.connect(cfg.LIVEKIT_URL, await token(roomName, 'caller'), {
      autoSubscribe: true,
      dynacast: false,
    });
    await agentRoom.connect(cfg.LIVEKIT_URL, await token(roomName, 'agent'), {
      autoSubscribe: true,
      dynacast: false,
    });

    const port = new FakeConversation({ slots: ['name', 'date'] });
    const sink = new MemoryEventSink();
    const transcript = 'Hello, I would like to book an appointment for next Tuesday.';
    const call = await startPipelineCall({
      callId: randomUUID(),
      port,
      stt: new FakeSTT({ transcripts: [transcript] }),
      tts: new FakeTTS({ msPerChar: 30 }),
      vad: await loadSileroVad(),
      sink,
      room: agentRoom,
      session: { aecWarmupMs: null },
    });

    // the caller: 1.5 s of silence (greeting), the utterance, then silence; paced by AudioSource
    const wav = readPcm16Wav(join(import.meta.dirname, '../../fixtures/smoke/hello-16k.wav'));
    const source = new AudioSource(16000, 1);
    await callerRoom.localParticipant!.publishTrack(
      LocalAudioTrack.createAudioTrack('caller-mic', source),
      new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }),
    );
    const samples = new Int16Array(16000 * 1.5 + wav.samples.length + 16000 * 3);
    samples.set(wav.samples, 16000 * 1.5);
    const frameSamples = 160;
    for (let off = 0; off + frameSamples <= samples.length; off += frameSamples) {
      await source.captureFrame(
        new AudioFrame(samples.slice(off, off + frameSamples), 16000, 1, frameSamples),
      );
    }
    const deadline = Date.now() + 10_000;
    while (call.controller.exchanges.length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 2500)); // let the reply play to the caller
    const summary = await call.end();

    expect(port.received[0]).toMatchObject({ kind: 'text', value: transcript });
    expect(port.state).toBe('ask_date');
    expect(call.errors).toEqual([]);
    expect(summary.turns).toBe(1);
    const turn = call.meter.turns[0]!;
    expect(turn.v2v_ms).toBeGreaterThan(100);
    expect(turn.v2v_ms).toBeLessThan(3000);
    expect(sink.ofType('turn').map((e) => e.payload.role)).toEqual(['agent', 'user', 'agent']);

    const all = new Int16Array(heard.reduce((n, f) => n + f.length, 0));
    let o = 0;
    for (const f of heard) {
      all.set(f, o);
      o += f.length;
    }
    expect(rmsDbfs(all)).toBeGreaterThan(-40); // greeting + reply tones reached the caller
    await svc.deleteRoom(roomName);
  }, 60_000);
});
