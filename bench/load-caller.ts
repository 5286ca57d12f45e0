/**
 * A lightweight caller for the load benchmark: the same room behaviour as src/caller
 * RoomCaller (both are a PacedParticipant: a microphone track that always carries audio —
 * utterances with silence between, paced in real time — and listening to the agent), but it
 * keeps no audio: tens of callers run in the benchmark process for minutes, and RoomCaller
 * stores every heard frame. Instead it timestamps what the measurements need:
 *
 * - `speechEndAt`: when the frame holding the last voiced sample of an utterance was handed
 *   to the audio source (the voice-to-voice anchor; trailing silence of a recording is not
 *   counted as speech);
 * - agent speech onsets (first loud frame after a quiet period) for voice-to-voice;
 * - stalls in the heard stream: a frame arriving more than LATE_MS after the previous one
 *   (the stream is continuous — the jitter buffer plays silence when the agent is quiet);
 * - gaps inside an agent turn: quiet runs of ≥ GAP_MIN_MS between loud frames of one reply
 *   (an agent that cannot keep its audio source fed underruns; the fake TTS tone has none).
 */
import type { AudioFrame } from '@livekit/rtc-node';
import { PacedParticipant } from '../src/caller/paced-participant.js';

export const FRAME_MS = 20;
/** A heard frame this much later than the previous one counts as late (4 frame periods). */
export const LATE_MS = 80;
/** Quiet inside an agent reply that counts as a gap. */
export const GAP_MIN_MS = 60;
/** Quiet that ends an agent reply. */
export const TURN_END_QUIET_MS = 700;
/** The pump sends at most this many overdue frames at once. */
const MAX_CATCH_UP = 5;

export interface LoadCallerOptions {
  url: string;
  apiKey: string;
  apiSecret: string;
  room: string;
  identity: string;
  sampleRate?: number;
  /** Agent audio above this level (dBFS over a frame) is speech. Default -45. */
  speechDbfs?: number;
}

/** Counters that only grow; the benchmark subtracts snapshots. */
export interface CallerCounters {
  heardFrames: number;
  lateFrames: number;
  /** Gaps inside agent replies, and their total length. */
  gaps: number;
  gapMs: number;
  /** Loud agent audio heard, ms. */
  agentSpeechMs: number;
  /**
   * Silence frames the caller did not send because this process fell more than MAX_CATCH_UP
   * frames behind (a starved benchmark process; a network would drop such late packets too).
   */
  skippedSendFrames: number;
}

export interface InboundAudioStats {
  packetsReceived: number;
  packetsLost: number;
  totalSamplesReceived: number;
  concealedSamples: number;
  silentConcealedSamples: number;
}

interface OnsetWaiter {
  since: number;
  resolve: (at: number) => void;
}

/** Counters at zero (a new caller; the start of a sum). */
export function zeroCounters(): CallerCounters {
  return { heardFrames: 0, lateFrames: 0, gaps: 0, gapMs: 0, agentSpeechMs: 0, skippedSendFrames: 0 };
}

export function zeroInboundStats(): InboundAudioStats {
  return {
    packetsReceived: 0,
    packetsLost: 0,
    totalSamplesReceived: 0,
    concealedSamples: 0,
    silentConcealedSamples: 0,
  };
}

export class LoadCaller extends PacedParticipant {
  readonly counters: CallerCounters = zeroCounters();
  /** performance.now() of the last loud agent frame. */
  lastLoudAt: number | undefined;
  /** performance.now() of the last voiced frame of the latest utterance, once sent. */
  speechEndAt: number | undefined;
  #onsetWaiters: OnsetWaiter[] = [];
  readonly #threshold2: number;
  #lastArrival: number | undefined;
  #quietRun = 0; // ms of quiet since the last loud frame
  #inTurn = false;

  private constructor(readonly options: LoadCallerOptions) {
    super({
      ...options,
      sampleRate: options.sampleRate ?? 16000,
      frameMs: FRAME_MS,
      ttl: '1h',
      maxCatchUpFrames: MAX_CATCH_UP,
    });
    const threshold = 32768 * 10 ** ((options.speechDbfs ?? -45) / 20);
    this.#threshold2 = threshold * threshold;
  }

  static async join(options: LoadCallerOptions): Promise<LoadCaller> {
    const caller = new LoadCaller(options);
    await caller.connect();
    return caller;
  }

  protected override onSkipped(frames: number): void {
    this.counters.skippedSendFrames += frames;
  }

  protected onHeard(frame: AudioFrame, now: number): void {
    const c = this.counters;
    c.heardFrames++;
    if (this.#lastArrival !== undefined && now - this.#lastArrival > LATE_MS) c.lateFrames++;
    this.#lastArrival = now;
    const data = frame.data;
    let sum = 0;
    for (let i = 0; i < data.length; i++) sum += data[i]! * data[i]!;
    const frameMs = (frame.samplesPerChannel / frame.sampleRate) * 1000;
    if (sum / Math.max(1, data.length) > this.#threshold2) {
      if (this.#inTurn && this.#quietRun >= GAP_MIN_MS) {
        c.gaps++;
        c.gapMs += this.#quietRun;
      }
      this.#inTurn = true;
      this.#quietRun = 0;
      c.agentSpeechMs += frameMs;
      this.lastLoudAt = now;
      if (this.#onsetWaiters.length > 0) {
        const keep: OnsetWaiter[] = [];
        for (const w of this.#onsetWaiters) {
          if (now >= w.since) w.resolve(now);
          else keep.push(w);
        }
        this.#onsetWaiters = keep;
      }
    } else {
      this.#quietRun += frameMs;
      if (this.#quietRun >= TURN_END_QUIET_MS) this.#inTurn = false;
    }
  }

  /**
   * Queues an utterance (mono PCM16 at `sampleRate`; `speechEnd` = sample index where its
   * speech ends) and resolves once all of it has been sent.
   */
  say(samples: Int16Array, speechEnd = samples.length): Promise<void> {
    const lastVoicedFrame = Math.max(0, Math.ceil(speechEnd / this.frameSamples) - 1);
    return this.queue(samples, (i) => {
      if (i === lastVoicedFrame) this.speechEndAt = performance.now();
    });
  }

  /** performance.now() of the first loud agent frame at or after `since`; undefined on timeout. */
  agentSpeechAfter(since: number, timeoutMs: number): Promise<number | undefined> {
    if (this.lastLoudAt !== undefined && this.lastLoudAt >= since) return Promise.resolve(this.lastLoudAt);
    return new Promise((resolve) => {
      const waiter = {
        since,
        resolve: (at: number) => {
          clearTimeout(timer);
          resolve(at);
        },
      };
      const timer = setTimeout(() => {
        this.#onsetWaiters = this.#onsetWaiters.filter((w) => w !== waiter);
        resolve(undefined);
      }, timeoutMs);
      this.#onsetWaiters.push(waiter);
    });
  }

  /** Resolves true once the agent has been quiet for `quietMs` (false on timeout). */
  async agentQuiet(quietMs: number, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline && !this.closed) {
      const last = this.lastLoudAt ?? 0;
      const quietFor = performance.now() - last;
      if (quietFor >= quietMs) return true;
      await new Promise((r) => setTimeout(r, Math.max(20, quietMs - quietFor)));
    }
    return false;
  }

  /** WebRTC receive statistics of the agent's audio (summed over inbound audio streams). */
  async inboundAudioStats(): Promise<InboundAudioStats> {
    const out = zeroInboundStats();
    if (this.closed || this.disconnected) return out;
    const stats = await this.room.getRtcStats();
    // The inbound RTP stream shows up on whichever peer connection carries it (one PC in
    // rtc-node's default mode: the "publisher" list).
    for (const s of [...stats.publisherStats, ...stats.subscriberStats]) {
      if (s.stats.case !== 'inboundRtp') continue;
      const v = s.stats.value;
      if (v.stream?.kind !== 'audio') continue;
      out.packetsReceived += Number(v.received?.packetsReceived ?? 0);
      out.packetsLost += Number(v.received?.packetsLost ?? 0);
      out.totalSamplesReceived += Number(v.inbound?.totalSamplesReceived ?? 0);
      out.concealedSamples += Number(v.inbound?.concealedSamples ?? 0);
      out.silentConcealedSamples += Number(v.inbound?.silentConcealedSamples ?? 0);
    }
    return out;
  }

  override async hangup(): Promise<void> {
    for (const w of this.#onsetWaiters.splice(0)) w.resolve(Number.NaN);
    await super.hangup();
  }
}
