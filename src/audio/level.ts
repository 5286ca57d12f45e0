import { seededRandom } from '../util/random.js';
import { clampInt16 } from './pcm.js';

/**
 * Levels, silence detection and the faint noise floor the offline recognizer needs.
 * All levels are dBFS relative to a full-scale 16-bit sine's peak (32768), i.e. a full-scale
 * square wave is 0 dBFS RMS and digital silence is -Infinity.
 */

export function rms(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    sum += s * s;
  }
  return Math.sqrt(sum / samples.length);
}

export function rmsDbfs(samples: Int16Array): number {
  const r = rms(samples);
  return r === 0 ? Number.NEGATIVE_INFINITY : 20 * Math.log10(r / 32768);
}

export function peakDbfs(samples: Int16Array): number {
  let peak = 0;
  for (let i = 0; i < samples.length; i++) {
    const a = Math.abs(samples[i]!);
    if (a > peak) peak = a;
  }
  return peak === 0 ? Number.NEGATIVE_INFINITY : 20 * Math.log10(peak / 32768);
}

export function dbfsToAmplitude(dbfs: number): number {
  return 32768 * 10 ** (dbfs / 20);
}

/** True when the whole buffer's RMS level is below `thresholdDbfs` (default -50 dBFS). */
export function isSilent(samples: Int16Array, thresholdDbfs = -50): boolean {
  return rmsDbfs(samples) < thresholdDbfs;
}

export interface SpeechSpan {
  /** Sample index where the span starts (inclusive). */
  start: number;
  /** Sample index where the span ends (exclusive). */
  end: number;
}

export interface EnergySegmentOptions {
  /** Frame length; default 20 ms. */
  frameMs?: number;
  /** Frames at or above this RMS level count as sound; default -45 dBFS. */
  thresholdDbfs?: number;
  /** Gaps of silence shorter than this are bridged; default 300 ms. */
  minSilenceMs?: number;
  /** Spans shorter than this are discarded; default 60 ms. */
  minSpeechMs?: number;
}

/** Energy-based segmentation: where in the buffer is there sound above the threshold? */
export function soundSpans(
  samples: Int16Array,
  sampleRate: number,
  options: EnergySegmentOptions = {},
): SpeechSpan[] {
  const frame = Math.max(1, Math.round((sampleRate * (options.frameMs ?? 20)) / 1000));
  const threshold = options.thresholdDbfs ?? -45;
  const bridge = Math.round((sampleRate * (options.minSilenceMs ?? 300)) / 1000);
  const minLen = Math.round((sampleRate * (options.minSpeechMs ?? 60)) / 1000);
  const spans: SpeechSpan[] = [];
  for (let off = 0; off < samples.length; off += frame) {
    const end = Math.min(samples.length, off + frame);
    if (rmsDbfs(samples.subarray(off, end)) < threshold) continue;
    const last = spans[spans.length - 1];
    if (last && off - last.end <= bridge) last.end = end;
    else spans.push({ start: off, end });
  }
  return spans.filter((s) => s.end - s.start >= minLen);
}

/** Removes leading and trailing silence (keeps `padMs` of it on each side, default 100 ms). */
export function trimSilence(
  samples: Int16Array,
  sampleRate: number,
  options: EnergySegmentOptions & { padMs?: number } = {},
): Int16Array {
  const spans = soundSpans(samples, sampleRate, options);
  const first = spans[0];
  const last = spans[spans.length - 1];
  if (!first || !last) return samples.subarray(0, 0);
  const pad = Math.round((sampleRate * (options.padMs ?? 100)) / 1000);
  return samples.subarray(Math.max(0, first.start - pad), Math.min(samples.length, last.end + pad));
}

/**
 * Adds white Gaussian noise at a fixed RMS level (default -54 dBFS ≈ ±65 LSB RMS).
 *
 * Pocketsphinx's front end (noise estimation, VAD, cepstral mean) misbehaves on digital
 * silence and on spectra with an empty band — exactly what 8 kHz phone audio upsampled to
 * 16 kHz looks like above 4 kHz. A faint broadband floor, added after resampling, fixes both
 * without audibly changing speech. Stateful so a stream's noise continues across chunks.
 */
export class NoiseFloor {
  private readonly sigma: number;
  private readonly random: () => number;
  private spare: number | undefined;

  constructor(dbfs = -54, seed = 0x5eed) {
    this.sigma = dbfsToAmplitude(dbfs);
    this.random = seededRandom(seed);
  }

  private gaussian(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const mag = Math.sqrt(-2 * Math.log(u));
    this.spare = mag * Math.sin(2 * Math.PI * v);
    return mag * Math.cos(2 * Math.PI * v);
  }

  /** Returns a new buffer: samples + noise (clamped to 16 bits). */
  apply(samples: Int16Array): Int16Array {
    const out = new Int16Array(samples.length);
    for (let i = 0; i < samples.length; i++) {
      out[i] = clampInt16(samples[i]! + this.gaussian() * this.sigma);
    }
    return out;
  }
}

/** One-shot form of {@link NoiseFloor}. */
export function addNoiseFloor(samples: Int16Array, dbfs = -54, seed?: number): Int16Array {
  return new NoiseFloor(dbfs, seed).apply(samples);
}
