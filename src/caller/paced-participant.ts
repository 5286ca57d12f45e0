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
import { AccessToken } from 'livekit-server-sdk';
import { quietRtcLogs } from './quiet-rtc.js';

export interface PacedParticipantOptions {
  url: string;
  apiKey: string;
  apiSecret: string;
  room: string;
  identity: string;
  /** Sample rate of what is said and heard. */
  sampleRate: number;
  /** Length of each sent and heard frame. */
  frameMs: number;
  /** Token lifetime, e.g. '30m'. */
  ttl: string;
  /**
   * At most this many overdue frames are sent at once; older silence is skipped (speech is
   * never cut). Unset: every overdue frame is sent (a test caller on a busy machine).
   */
  maxCatchUpFrames?: number;
}

/** One frame waiting to be sent; `onSent` runs when it is handed to the audio source. */
interface QueuedFrame {
  data: Int16Array;
  onSent?: () => void;
}

/**
 * A caller as LiveKit sees a phone call: a participant that publishes a microphone track which
 * always carries audio — queued utterances, silence between — paced on the wall clock, and
 * listens to every audio track it is sent. The test caller (RoomCaller) and the load
 * benchmark's caller (bench/load-caller.ts) differ only in what they do with what they hear.
 */
export abstract class PacedParticipant {
  readonly room = new Room();
  readonly sampleRate: number;
  /** Set when the room disconnects (the agent deleted it, the server went away). */
  disconnected = false;
  protected readonly frameSamples: number;
  #source: AudioSource;
  #queue: QueuedFrame[] = [];
  #pump: NodeJS.Timeout | undefined;
  #closed = false;
  #drained: (() => void)[] = [];

  protected constructor(protected readonly paced: PacedParticipantOptions) {
    this.sampleRate = paced.sampleRate;
    this.frameSamples = (paced.sampleRate * paced.frameMs) / 1000;
    this.#source = new AudioSource(paced.sampleRate, 1, 200);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Each heard frame of the agent's audio, with performance.now() of its arrival. */
  protected abstract onHeard(frame: AudioFrame, now: number): void;

  /** Silence frames skipped because the process fell behind (see maxCatchUpFrames). */
  protected onSkipped(_frames: number): void {}

  protected async connect(): Promise<void> {
    quietRtcLogs();
    const o = this.paced;
    const at = new AccessToken(o.apiKey, o.apiSecret, { identity: o.identity, ttl: o.ttl });
    at.addGrant({ roomJoin: true, room: o.room, canPublish: true, canSubscribe: true });
    this.room.on(RoomEvent.TrackSubscribed, (track: RemoteTrack) => {
      if (track.kind === TrackKind.KIND_AUDIO) this.#listen(track).catch(() => undefined);
    });
    this.room.on(RoomEvent.Disconnected, () => {
      // Nothing more goes out; whoever waits for an utterance to be sent stops waiting.
      this.disconnected = true;
      for (const done of this.#drained.splice(0)) done();
    });
    await this.room.connect(o.url, await at.toJwt(), { autoSubscribe: true, dynacast: false });
    await this.room.localParticipant!.publishTrack(
      LocalAudioTrack.createAudioTrack('caller-mic', this.#source),
      new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }),
    );
    this.#startPump();
  }

  async #listen(track: RemoteTrack): Promise<void> {
    let stream: AudioStream;
    try {
      stream = new AudioStream(track, {
        sampleRate: this.sampleRate,
        numChannels: 1,
        frameSizeMs: this.paced.frameMs,
      });
    } catch {
      return; // the track went away before we could listen (the agent left)
    }
    for await (const frame of stream) {
      if (this.#closed) break;
      this.onHeard(frame, performance.now());
    }
  }

  /** Sends frames on a wall-clock schedule: queued speech first, silence otherwise. */
  #startPump(): void {
    const { frameMs, maxCatchUpFrames } = this.paced;
    const t0 = performance.now();
    let sent = 0;
    const silence = new Int16Array(this.frameSamples);
    const tick = () => {
      if (this.#closed || this.disconnected) return;
      const due = Math.floor((performance.now() - t0) / frameMs);
      if (maxCatchUpFrames !== undefined && due - sent > maxCatchUpFrames && this.#queue.length === 0) {
        // Do not burst seconds of silence into the source: skip what is hopelessly late.
        const skip = due - sent - maxCatchUpFrames;
        this.onSkipped(skip);
        sent += skip;
      }
      while (sent < due) {
        const chunk = this.#queue.shift();
        chunk?.onSent?.();
        if (!chunk && this.#drained.length) for (const done of this.#drained.splice(0)) done();
        const data = chunk?.data ?? silence;
        this.#source
          .captureFrame(new AudioFrame(data, this.sampleRate, 1, data.length))
          .catch(() => undefined);
        sent++;
      }
      this.#pump = setTimeout(tick, frameMs);
    };
    tick();
  }

  /**
   * Queues an utterance (mono PCM16 at `sampleRate`) and resolves once all of it has been
   * sent. `onFrameSent(i)` runs as frame i of it goes out.
   */
  protected queue(samples: Int16Array, onFrameSent?: (index: number) => void): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const n = this.frameSamples;
    for (let off = 0, i = 0; off < samples.length; off += n, i++) {
      const data = new Int16Array(n);
      data.set(samples.subarray(off, Math.min(samples.length, off + n)));
      const index = i;
      this.#queue.push({ data, ...(onFrameSent ? { onSent: () => onFrameSent(index) } : {}) });
    }
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /** Leaves the room (for a SIP-less call this is the caller hanging up). Bounded. */
  async hangup(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#pump);
    for (const done of this.#drained.splice(0)) done();
    // One stuck disconnect must not hold up the end of a test or a benchmark.
    const bounded = (p: Promise<unknown>) =>
      Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, 5000).unref())]);
    await bounded(this.room.disconnect());
    await bounded(this.#source.close());
  }
}
