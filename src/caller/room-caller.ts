import type { AudioFrame } from '@livekit/rtc-node';
import { sleep } from '../util/async.js';
import { PacedParticipant } from './paced-participant.js';

/**
 * A caller in a LiveKit room, for the demo and end-to-end tests (PacedParticipant): it
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

export class RoomCaller extends PacedParticipant {
  /** Every heard 10 ms frame, in order. */
  readonly heard: Int16Array[] = [];
  /** Wall-clock ms of the first and latest loud agent frame. */
  firstAgentAudioAt: number | undefined;
  lastAgentAudioAt: number | undefined;
  /** Wall-clock ms of each start of agent speech (after ≥ 300 ms of quiet). */
  readonly agentOnsets: number[] = [];
  /** Wall-clock ms when the last `say` finished sending its audio. */
  lastUtteranceEndAt: number | undefined;
  readonly #threshold: number;

  private constructor(readonly options: RoomCallerOptions) {
    super({
      ...options,
      identity: options.identity ?? 'caller',
      sampleRate: options.sampleRate ?? 16000,
      frameMs: FRAME_MS,
      ttl: '30m',
    });
    this.#threshold = 32768 * 10 ** ((options.speechDbfs ?? -45) / 20);
  }

  static async join(options: RoomCallerOptions): Promise<RoomCaller> {
    const caller = new RoomCaller(options);
    await caller.connect();
    return caller;
  }

  protected onHeard(frame: AudioFrame): void {
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
  }

  /** Queues an utterance (mono PCM16 at `sampleRate`) and resolves once it has been sent. */
  async say(samples: Int16Array): Promise<void> {
    await this.queue(samples);
    this.lastUtteranceEndAt = Date.now();
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
      await sleep(50);
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
}
