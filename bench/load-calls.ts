/** bench:load's calls: a room, a dispatch and a LoadCaller each, and what they measured. */

import { join } from 'node:path';
import { AgentDispatchClient, RoomServiceClient } from 'livekit-server-sdk';
import { soundSpans } from '../src/audio/level.js';
import { readWav } from '../src/audio/wav.js';
import type { Config } from '../src/config/config.js';
import { sleep } from '../src/util/async.js';
import { signDispatchMetadata } from '../src/worker/dispatch-signature.js';
import {
  type CallerCounters,
  type InboundAudioStats,
  LoadCaller,
  TURN_END_QUIET_MS,
  zeroCounters,
  zeroInboundStats,
} from './load-caller.js';

import { CALL_NOW, FIXTURES, REPLY_TIMEOUT_MS } from './load-support.js';
export interface Utterance {
  name: string;
  samples: Int16Array;
  speechEnd: number;
}

export function loadUtterance(name: string): Utterance {
  const wav = readWav(join(FIXTURES, `${name}.wav`));
  const spans = soundSpans(wav.samples, wav.sampleRate);
  const first = spans[0];
  const last = spans[spans.length - 1];
  if (wav.sampleRate !== 16000 || wav.channels !== 1 || !first || !last) {
    throw new Error(`${name}.wav: expected audible 16 kHz mono speech`);
  }
  // 100 ms of lead-in, speech, 100 ms of tail: the pump carries on with silence afterwards.
  const pad = 1600;
  const start = Math.max(0, first.start - pad);
  const end = Math.min(wav.samples.length, last.end + pad);
  return { name, samples: wav.samples.subarray(start, end), speechEnd: last.end - start };
}

// ---------------------------------------------------------------- calls

export interface V2vSample {
  at: number;
  ms: number;
}

export class CallPool {
  readonly calls = new Set<Call>();
  readonly samples: V2vSample[] = [];
  readonly answers: { at: number; ms: number }[] = [];
  readonly unanswered: number[] = [];
  readonly dropped: number[] = [];
  readonly failures: string[] = [];
  #seq = 0;
  running = true;

  constructor(
    readonly cfg: Config,
    readonly agentName: string,
    readonly runId: string,
    readonly utterances: { opening: Utterance[]; loop: Utterance[] },
  ) {}

  get up(): number {
    let n = 0;
    for (const c of this.calls) if (c.answered && !c.ended) n++;
    return n;
  }

  start(): Call {
    const call = new Call(this, this.#seq++);
    this.calls.add(call);
    void call.run();
    return call;
  }

  async stopAll(): Promise<void> {
    this.running = false;
    await Promise.allSettled([...this.calls].map((c) => c.hangup()));
  }

  /** Caller counters and receive statistics of every call up now. */
  async snapshot(): Promise<Map<Call, CallSnapshot>> {
    const out = new Map<Call, CallSnapshot>();
    await Promise.all(
      [...this.calls].map(async (call) => {
        const caller = call.caller;
        if (!caller || call.ended || !call.answered) return;
        const rtc = await caller.inboundAudioStats().catch(() => undefined);
        out.set(call, { counters: { ...caller.counters }, ...(rtc ? { rtc } : {}) });
      }),
    );
    return out;
  }
}

export interface CallSnapshot {
  counters: CallerCounters;
  rtc?: InboundAudioStats;
}

export type AudioTotals = CallerCounters & InboundAudioStats;

/** Growth of the counters over a window, summed over the calls present at both ends. */
export function audioDelta(start: Map<Call, CallSnapshot>, end: Map<Call, CallSnapshot>): AudioTotals {
  const out: AudioTotals = { ...zeroCounters(), ...zeroInboundStats() };
  for (const [call, b] of end) {
    const a = start.get(call);
    if (!a) continue;
    for (const k of Object.keys(b.counters) as (keyof CallerCounters)[])
      out[k] += b.counters[k] - a.counters[k];
    if (a.rtc && b.rtc) {
      for (const k of Object.keys(b.rtc) as (keyof InboundAudioStats)[]) out[k] += b.rtc[k] - a.rtc[k];
    }
  }
  return out;
}

export class Call {
  caller: LoadCaller | undefined;
  answered = false;
  ended = false;
  readonly room: string;
  #turn = 0;

  constructor(
    readonly pool: CallPool,
    readonly index: number,
  ) {
    this.room = `bench-load-${pool.runId}-${index}`;
  }

  #next(): Utterance {
    const { opening, loop } = this.pool.utterances;
    const i = this.#turn++;
    return i < opening.length ? opening[i]! : loop[(i - opening.length) % loop.length]!;
  }

  async run(): Promise<void> {
    const { cfg, agentName } = this.pool;
    const http = cfg.LIVEKIT_URL.replace(/^ws/, 'http');
    try {
      const rooms = new RoomServiceClient(http, cfg.LIVEKIT_API_KEY, cfg.LIVEKIT_API_SECRET);
      await rooms.createRoom({ name: this.room, emptyTimeout: 30 });
      this.caller = await LoadCaller.join({
        url: cfg.LIVEKIT_URL,
        apiKey: cfg.LIVEKIT_API_KEY,
        apiSecret: cfg.LIVEKIT_API_SECRET,
        room: this.room,
        identity: `caller-${this.index}`,
      });
      const dispatch = new AgentDispatchClient(http, cfg.LIVEKIT_API_KEY, cfg.LIVEKIT_API_SECRET);
      const dispatchedAt = performance.now();
      const metadata = signDispatchMetadata(
        { now: CALL_NOW },
        { secret: cfg.DISPATCH_SIGNING_SECRET, room: this.room },
      );
      await dispatch.createDispatch(this.room, agentName, { metadata: JSON.stringify(metadata) });
      const greeting = await this.caller.agentSpeechAfter(dispatchedAt, 90_000);
      if (greeting === undefined || !Number.isFinite(greeting)) {
        if (this.pool.running) this.pool.failures.push(`call ${this.index}: no greeting within 90 s`);
        return;
      }
      this.answered = true;
      this.pool.answers.push({ at: greeting, ms: greeting - dispatchedAt });
      await this.caller.agentQuiet(TURN_END_QUIET_MS, 30_000);
      while (this.pool.running && !this.caller.disconnected) {
        const u = this.#next();
        await this.caller.say(u.samples, u.speechEnd);
        if (!this.pool.running) break;
        const anchor = this.caller.speechEndAt ?? performance.now();
        const onset = await this.caller.agentSpeechAfter(anchor, REPLY_TIMEOUT_MS);
        if (!this.pool.running) break;
        if (onset === undefined || !Number.isFinite(onset)) {
          // no reply in time (an overloaded agent): carry on, as a caller repeating itself would
          this.pool.unanswered.push(performance.now());
          continue;
        }
        this.pool.samples.push({ at: anchor, ms: onset - anchor });
        await this.caller.agentQuiet(TURN_END_QUIET_MS, 30_000);
        await sleep(200 + Math.random() * 300);
      }
      if (this.pool.running) {
        // The agent hung up (the room is gone): replace the call to keep K.
        this.pool.dropped.push(performance.now());
      }
    } catch (err) {
      if (this.pool.running) this.pool.failures.push(`call ${this.index}: ${(err as Error).message}`);
    } finally {
      this.ended = true;
      await this.hangup();
      if (this.pool.running && this.answered) {
        this.pool.calls.delete(this);
        this.pool.start();
      }
    }
  }

  async hangup(): Promise<void> {
    await this.caller?.hangup();
  }
}
