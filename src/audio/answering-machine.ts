import { rmsDbfs } from './level.js';

/**
 * Answering-machine detection from the first seconds of an answered outbound call, offline and
 * without a model: people answer with a short greeting and then wait for the caller ("hello?"
 * … silence); machines talk on ("you have reached … leave a message after the tone") and often
 * end with a beep, a single pure tone. The detector feeds on the callee's audio frame by frame
 * and decides as soon as the evidence allows:
 *
 * - `human`: a greeting no longer than `maxHumanGreetingMs`, then `humanSilenceMs` of silence;
 * - `machine`: speech running past `maxHumanGreetingMs` (pauses shorter than `wordGapMs` do
 *   not end it), or a beep;
 * - `unknown`: nothing said within `maxInitialSilenceMs` (dead air), or no decision by
 *   `decisionWindowMs`.
 *
 * After `machine`, `beepAt` / `greetingEndedAt` tell a dialler when to start its message:
 * after the beep, or after the greeting's end plus a moment's silence.
 */

export type AnsweredBy = 'human' | 'machine' | 'unknown';

export interface AmdDecision {
  answeredBy: AnsweredBy;
  /** A beep after an early `human`: the greeting was a machine's after all. */
  revised?: boolean;
  /** Why, in a few words ("greeting 3.4 s", "beep 1000 Hz", "greeting 0.8 s then silence"). */
  reason: string;
  /** Milliseconds of audio it took to decide. */
  decidedAtMs: number;
  greetingMs: number;
}

export interface AmdOptions {
  sampleRate: number;
  /** Analysis frame (default 20 ms). */
  frameMs?: number;
  /** Speech is this many dB above the noise floor (default 12), and above -45 dBFS. */
  speechOverFloorDb?: number;
  maxHumanGreetingMs?: number;
  humanSilenceMs?: number;
  wordGapMs?: number;
  maxInitialSilenceMs?: number;
  decisionWindowMs?: number;
  /** Listen for the beep (default true). */
  detectBeep?: boolean;
}

const DEFAULTS = {
  frameMs: 20,
  speechOverFloorDb: 12,
  maxHumanGreetingMs: 2400,
  humanSilenceMs: 900,
  wordGapMs: 450,
  maxInitialSilenceMs: 5000,
  decisionWindowMs: 8000,
  detectBeep: true,
};

/** The tone detector's band (telephone audio) and what makes a frame a tone. */
const TONE_MIN_HZ = 300;
const TONE_MAX_HZ = 3000;
const TONE_STEP_HZ = 25;
/** Share of the frame's energy in its strongest 25 Hz band for the frame to count as tonal. */
const TONE_PURITY = 0.55;
/** A beep is at least this long at one pitch. */
const BEEP_MIN_MS = 160;

/** Energy near `freq` in one frame (Goertzel), normalised like the frame's own energy. */
function goertzel(frame: Float64Array, sampleRate: number, freq: number): number {
  const coeff = 2 * Math.cos((2 * Math.PI * freq) / sampleRate);
  let prev = 0;
  let prev2 = 0;
  for (let i = 0; i < frame.length; i++) {
    const next = frame[i]! + coeff * prev - prev2;
    prev2 = prev;
    prev = next;
  }
  const power = prev * prev + prev2 * prev2 - coeff * prev * prev2;
  return (2 * power) / frame.length;
}

/** The frame's dominant pitch when nearly all its energy sits at one frequency, else null. */
export function toneOf(samples: Int16Array, sampleRate: number): number | null {
  const frame = new Float64Array(samples.length);
  let energy = 0;
  for (let i = 0; i < samples.length; i++) {
    // A Hann window keeps a pure tone's energy in its own band.
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (samples.length - 1));
    frame[i] = samples[i]! * w;
    energy += frame[i]! * frame[i]!;
  }
  if (energy === 0) return null;
  let best = 0;
  let bestFreq = 0;
  for (let f = TONE_MIN_HZ; f <= Math.min(TONE_MAX_HZ, sampleRate / 2 - TONE_STEP_HZ); f += TONE_STEP_HZ) {
    const p = goertzel(frame, sampleRate, f);
    if (p > best) {
      best = p;
      bestFreq = f;
    }
  }
  // Parseval: a pure tone puts about half the windowed energy in its Goertzel bin pair.
  const purity = best / energy;
  return purity >= TONE_PURITY ? bestFreq : null;
}

/** Streaming detector: push the callee's audio as it comes; `decision` is set once decided. */
export class AnsweringMachineDetector {
  readonly options: Required<AmdOptions>;
  decision: AmdDecision | undefined;
  /** When the beep ended (ms into the call), once heard. */
  beepEndedAt: number | undefined;
  /** When the machine's greeting last fell silent (ms), for leaving a message without a beep. */
  greetingEndedAt: number | undefined;

  readonly #frameSamples: number;
  #pending: Int16Array = new Int16Array(0);
  #elapsedMs = 0;
  #floorDb = Number.POSITIVE_INFINITY;
  #speechStartMs: number | undefined;
  #lastSpeechMs: number | undefined;
  #toneHz: number | null = null;
  #toneStartMs = 0;

  constructor(options: AmdOptions) {
    this.options = { ...DEFAULTS, ...options } as Required<AmdOptions>;
    this.#frameSamples = Math.round((this.options.sampleRate * this.options.frameMs) / 1000);
  }

  /** Feeds audio; returns the decision once there is one (and keeps tracking the beep). */
  push(samples: Int16Array): AmdDecision | undefined {
    const joined = new Int16Array(this.#pending.length + samples.length);
    joined.set(this.#pending);
    joined.set(samples, this.#pending.length);
    let offset = 0;
    for (; offset + this.#frameSamples <= joined.length; offset += this.#frameSamples) {
      this.#frame(joined.subarray(offset, offset + this.#frameSamples));
    }
    this.#pending = joined.slice(offset);
    return this.decision;
  }

  /** The decision when the audio ended before one (a hang-up): what was heard so far. */
  finish(): AmdDecision {
    if (this.decision) return this.decision;
    const greeting = this.#greetingMs();
    if (this.#speechStartMs === undefined) return this.#decide('unknown', 'nothing said');
    return greeting > this.options.maxHumanGreetingMs
      ? this.#decide('machine', `greeting ${(greeting / 1000).toFixed(1)} s`)
      : this.#decide('human', `greeting ${(greeting / 1000).toFixed(1)} s, then the line ended`);
  }

  #greetingMs(): number {
    if (this.#speechStartMs === undefined || this.#lastSpeechMs === undefined) return 0;
    return this.#lastSpeechMs - this.#speechStartMs;
  }

  #decide(answeredBy: AnsweredBy, reason: string): AmdDecision {
    this.decision ??= { answeredBy, reason, decidedAtMs: this.#elapsedMs, greetingMs: this.#greetingMs() };
    return this.decision;
  }

  #frame(frame: Int16Array): void {
    const o = this.options;
    const start = this.#elapsedMs;
    this.#elapsedMs += o.frameMs;
    const level = rmsDbfs(frame);
    // The floor follows the quietest frames (line noise), slowly rising if the line gets louder.
    if (Number.isFinite(level)) this.#floorDb = Math.min(this.#floorDb + 0.02, level);
    const floor = Number.isFinite(this.#floorDb) ? this.#floorDb : -90;
    const speech = level > Math.max(-45, floor + o.speechOverFloorDb);
    if (o.detectBeep) this.#trackTone(speech ? toneOf(frame, o.sampleRate) : null, start);
    if (speech) {
      this.#speechStartMs ??= start;
      // A gap longer than a pause between words ends the greeting; speech after it is a reply.
      if (this.#lastSpeechMs !== undefined && start - this.#lastSpeechMs > o.wordGapMs && this.decision) {
        this.greetingEndedAt ??= this.#lastSpeechMs;
      }
      this.#lastSpeechMs = this.#elapsedMs;
    } else if (this.#lastSpeechMs !== undefined && this.#elapsedMs - this.#lastSpeechMs >= o.wordGapMs) {
      if (this.decision?.answeredBy === 'machine') this.greetingEndedAt = this.#lastSpeechMs;
    }
    if (this.decision) return;
    if (this.#speechStartMs === undefined) {
      if (this.#elapsedMs >= o.maxInitialSilenceMs) this.#decide('unknown', 'nothing said');
      return;
    }
    const greeting = this.#greetingMs();
    const silentFor = this.#elapsedMs - (this.#lastSpeechMs ?? this.#elapsedMs);
    if (greeting > o.maxHumanGreetingMs) {
      this.#decide('machine', `greeting over ${(o.maxHumanGreetingMs / 1000).toFixed(1)} s`);
    } else if (silentFor >= o.humanSilenceMs) {
      this.#decide('human', `greeting ${(greeting / 1000).toFixed(1)} s, then silence`);
    } else if (this.#elapsedMs >= o.decisionWindowMs) {
      this.#decide('unknown', 'no decision in time');
    }
  }

  #trackTone(hz: number | null, startMs: number): void {
    const same = hz !== null && this.#toneHz !== null && Math.abs(hz - this.#toneHz) <= TONE_STEP_HZ;
    if (same) {
      if (startMs + this.options.frameMs - this.#toneStartMs >= BEEP_MIN_MS) {
        const early = this.decision;
        if (early && early.answeredBy !== 'machine' && startMs <= this.options.decisionWindowMs) {
          // A short greeting and a pause looked like a person; the beep says otherwise.
          this.decision = {
            ...early,
            answeredBy: 'machine',
            reason: `beep ${this.#toneHz} Hz`,
            revised: true,
            decidedAtMs: startMs + this.options.frameMs,
          };
        }
        this.#decide('machine', `beep ${this.#toneHz} Hz`);
        this.beepEndedAt = startMs + this.options.frameMs;
      }
      return;
    }
    this.#toneHz = hz;
    this.#toneStartMs = startMs;
  }
}

/** The decision for a whole recording (tests, benchmarks). */
export function detectAnsweringMachine(samples: Int16Array, options: AmdOptions): AmdDecision {
  const detector = new AnsweringMachineDetector(options);
  const chunk = Math.round(options.sampleRate / 10);
  const windowSamples = (detector.options.decisionWindowMs / 1000) * options.sampleRate;
  // Past a decision, listen on to the end of the window: a beep may still revise `human`.
  for (let i = 0; i < samples.length && (!detector.decision || i < windowSamples); i += chunk) {
    if (detector.decision?.answeredBy === 'machine') break;
    detector.push(samples.subarray(i, i + chunk));
  }
  return detector.finish();
}
