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

/**
 * A caller in a LiveKit room, for the demo, end-to-end tests and the load benchmark: it
 * publishes a microphone track that always carries audio (silence between utterances, as a
 * phone line does — the agent's VAD needs the trailing silence to end a turn) and listens to
 * everything the agent publishes, keeping the heard audio and when it was loud.
 */
export interface RoomCallerOptions {
  url: string;
  apiKey: string;
  apiSecret: string;
  room: string;
  identity?: string;
  /** Sample rate of what `say` gets and of the heard audio. Default 16000. */
  sampleRate?: number;
  /** Above this level (dBFS over 20 ms) the agent counts as speaking. Default -45. */
  speechDbfs?: number;
}

const FRAME_MS = 10;

export class RoomCaller {
  readonly room = new Room();
  readonly sampleRate: number;
  /** Every heard 10 ms frame, in order. */
  readonly heard: Int16Array[] = [];
  /** Wall-clock ms of the first and latest loud agent frame. */
  firstAgentAudioAt: number | undefined;
  lastAgentAudioAt: number | undefined;
  /** Wall-clock ms of each start of agent speech (after ≥ 300 ms of quiet). */
  readonly agentOnsets: number[] = [];
  /** Wall-clock ms when the last `say` finished sending its audio. */
  lastUtteranceEndAt: number | undefined;
  #source: AudioSource;
  #queue: Int16Array[] = [];
  #pump: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #threshold: number;
  readonly #frameSamples: number;
  readonly #drained: (() => void)[] = [];

  private constructor(readonly options: RoomCallerOptions) {
    this.sampleRate = options.sampleRate ?? 16000;
    this.#frameSamples = (this.sampleRate * FRAME_MS) / 1000;
    this.#threshold = 32768 * 10 ** ((options.speechDbfs ?? -45) / 20);
    this.#source = new AudioSource(this.sampleRate, 1, 200);
  }

  static async join(options: RoomCallerOptions): Promise<RoomCaller> {
    quietRtcLogs();
    const caller = new RoomCaller(options);
    await caller.#connect();
    return caller;
  }

  async #connect(): Promise<void> {
    const o = this.options;
    const at = new AccessToken(o.apiKey, o.apiSecret, { identity: o.identity ?? 'caller', ttl: '30m' });
    at.addGrant({ roomJoin: true, room: o.room, canPublish: true, canSubscribe: true });
    this.room.on(RoomEvent.TrackSubscribed, (track: RemoteTrack) => {
      if (track.kind === TrackKind.KIND_AUDIO) void this.#listen(track);
    });
    await this.room.connect(o.url, await at.toJwt(), { autoSubscribe: true, dynacast: false });
    await this.room.localParticipant!.publishTrack(
      LocalAudioTrack.createAudioTrack('caller-mic', this.#source),
      new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }),
    );
    this.#startPump();
  }

  async #listen(track: RemoteTrack): Promise<void> {
    const stream = new AudioStream(track, { sampleRate: this.sampleRate, numChannels: 1 });
    for await (const frame of stream) {
      const samples = new Int16Array(frame.data);
      this.heard.push(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      if (Math.sqrt(sum / Math.max(1, samples.length)) > this.#threshold) {
        const now = Date.now();
        // A new onset when the agent was quiet for a while: the start of a reply.
        if (this.lastAgentAudioAt === undefined || now - this.lastAgentAudioAt > 300)
          this.agentOnsets.push(now);
        this.firstAgentAudioAt ??= now;
        this.lastAgentAudioAt = now;
      }
      if (this.#closed) break;
    }
  }

  /** Sends 10 ms frames on a wall-clock schedule: queued speech first, silence otherwise. */
  #startPump(): void {
    const t0 = performance.now();
    let sent = 0;
    const silence = new Int16Array(this.#frameSamples);
    const tick = () => {
      if (this.#closed) return;
      const due = Math.floor((performance.now() - t0) / FRAME_MS);
      while (sent < due) {
        const chunk = this.#queue.shift();
        if (!chunk && this.#drained.length) {
          this.lastUtteranceEndAt = Date.now();
          for (const done of this.#drained.splice(0)) done();
        }
        const data = chunk ?? silence;
        this.#source
          .captureFrame(new AudioFrame(data, this.sampleRate, 1, data.length))
          .catch(() => undefined);
        sent++;
      }
      this.#pump = setTimeout(tick, FRAME_MS);
    };
    tick();
  }

  /** Queues an utterance (mono PCM16 at `sampleRate`) and resolves once it has been sent. */
  say(samples: Int16Array): Promise<void> {
    for (let off = 0; off < samples.length; off += this.#frameSamples) {
      const frame = new Int16Array(this.#frameSamples);
      frame.set(samples.subarray(off, Math.min(samples.length, off + this.#frameSamples)));
      this.#queue.push(frame);
    }
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /**
   * Waits until the agent has spoken (after `since`) and then stayed quiet for `quietMs`.
   * Resolves false on timeout.
   */
  async waitForAgentTurn(
    options: { since?: number; quietMs?: number; timeoutMs?: number } = {},
  ): Promise<boolean> {
    const since = options.since ?? Date.now();
    const quietMs = options.quietMs ?? 1200;
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    while (Date.now() < deadline) {
      const last = this.lastAgentAudioAt;
      if (last !== undefined && last >= since && Date.now() - last >= quietMs) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  }

  /** The first start of agent speech at or after `t` (ms), if any. */
  firstAgentAudioAfter(t: number): number | undefined {
    return this.agentOnsets.find((at) => at >= t);
  }

  /** Everything heard so far as one buffer. */
  heardPcm(): Int16Array {
    const out = new Int16Array(this.heard.reduce((n, f) => n + f.length, 0));
    let o = 0;
    for (const f of this.heard) {
      out.set(f, o);
      o += f.length;
    }
    return out;
  }

  /** Leaves the room (for a SIP-less call this is the caller hanging up). */
  async hangup(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#pump);
    for (const done of this.#drained.splice(0)) done();
    await this.room.disconnect().catch(() => undefined);
    await this.#source.close().catch(() => undefined);
  }
}
