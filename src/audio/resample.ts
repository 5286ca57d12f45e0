import { clampInt16 } from './pcm.js';

/**
 * Sample-rate conversion with a Kaiser-windowed sinc (band-limited interpolation).
 *
 * For a rate ratio in/out = M/L (reduced), output sample k sits at input position k·M/L; its
 * value is Σ x[j]·h(k·M/L − j) over the 2·N input samples around it, with h a low-pass at
 * min(in, out)/2 · ROLLOFF. When L is small the L distinct fractional phases are tabulated
 * once; otherwise the kernel is evaluated on the fly. Stopband attenuation is ≈ 80 dB, the
 * passband reaches ~0.9 × the lower Nyquist frequency — plenty for speech.
 *
 * `Resampler` is streaming (chunks in, chunks out, state carried across calls, fixed delay
 * compensated so output k always corresponds to time k/out); `resample()` is the one-shot form.
 */

const ZERO_CROSSINGS = 16;
const ROLLOFF = 0.92;
const KAISER_BETA = 8.0;
const MAX_TABLE_PHASES = 4096;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

export class Resampler {
  readonly fromRate: number;
  readonly toRate: number;
  private readonly up: number; // L
  private readonly down: number; // M
  private readonly cutoff: number; // relative to the input Nyquist (1 = fs_in/2)
  private readonly half: number; // N: taps each side, in input samples
  private readonly table: Float32Array[] | undefined;
  private readonly i0beta = besselI0(KAISER_BETA);
  /** Unconsumed input, starting at absolute input index `bufStart`. */
  private buf: Float32Array;
  private bufLen = 0;
  private bufStart: number;
  /** Next output index (absolute). */
  private outIndex = 0;
  private inCount = 0;
  private flushed = false;

  constructor(fromRate: number, toRate: number) {
    for (const [name, r] of [
      ['fromRate', fromRate],
      ['toRate', toRate],
    ] as const) {
      if (!Number.isInteger(r) || r <= 0)
        throw new RangeError(`${name} must be a positive integer, got ${r}`);
    }
    this.fromRate = fromRate;
    this.toRate = toRate;
    const g = gcd(fromRate, toRate);
    this.up = toRate / g;
    this.down = fromRate / g;
    this.cutoff = Math.min(1, this.up / this.down) * ROLLOFF;
    this.half = Math.ceil(ZERO_CROSSINGS / Math.min(1, this.up / this.down));
    if (this.up <= MAX_TABLE_PHASES && fromRate !== toRate) {
      this.table = [];
      for (let phase = 0; phase < this.up; phase++) {
        const frac = phase / this.up;
        const taps = new Float32Array(2 * this.half);
        // tap t multiplies x[i - half + 1 + t], at distance (frac + half - 1 - t) from the output
        for (let t = 0; t < taps.length; t++) taps[t] = this.kernel(frac + this.half - 1 - t);
        this.table.push(taps);
      }
    }
    // The first outputs need `half` samples of history before time 0: start with zeros.
    this.buf = new Float32Array(4096);
    this.bufLen = this.half;
    this.bufStart = -this.half;
  }

  private kernel(x: number): number {
    const n = this.half;
    if (x <= -n || x >= n) return 0;
    const fc = this.cutoff;
    const arg = Math.PI * fc * x;
    const sinc = x === 0 ? 1 : Math.sin(arg) / arg;
    const r = x / n;
    const w = besselI0(KAISER_BETA * Math.sqrt(Math.max(0, 1 - r * r))) / this.i0beta;
    return fc * sinc * w;
  }

  /** Feeds input samples; returns every output sample that can be computed so far. */
  process(input: Int16Array | Float32Array): Int16Array {
    if (this.flushed) throw new Error('Resampler.process() after flush()');
    const scale = input instanceof Int16Array ? 1 : 32768;
    if (this.fromRate === this.toRate) {
      this.inCount += input.length;
      if (input instanceof Int16Array) return input.slice();
      const out = new Int16Array(input.length);
      for (let i = 0; i < input.length; i++) out[i] = clampInt16(input[i]! * scale);
      return out;
    }
    this.append(input, scale);
    this.inCount += input.length;
    return this.drain(this.bufStart + this.bufLen);
  }

  /** Ends the stream: returns the remaining output (total output = round(inputs × to / from)). */
  flush(): Int16Array {
    if (this.flushed) return new Int16Array(0);
    this.flushed = true;
    if (this.fromRate === this.toRate) return new Int16Array(0);
    this.append(new Float32Array(this.half + 1), 1);
    const total = Math.round((this.inCount * this.up) / this.down);
    return this.drain(this.bufStart + this.bufLen, total);
  }

  private append(input: Int16Array | Float32Array, scale: number): void {
    if (this.bufLen + input.length > this.buf.length) {
      const next = new Float32Array(Math.max(this.buf.length * 2, this.bufLen + input.length));
      next.set(this.buf.subarray(0, this.bufLen));
      this.buf = next;
    }
    for (let i = 0; i < input.length; i++) this.buf[this.bufLen + i] = input[i]! * scale;
    this.bufLen += input.length;
  }

  /** Computes outputs whose kernel support lies below absolute input index `available`. */
  private drain(available: number, limit = Number.POSITIVE_INFINITY): Int16Array {
    const out: number[] = [];
    const n = this.half;
    for (;;) {
      if (this.outIndex >= limit) break;
      const num = this.outIndex * this.down;
      const i = Math.floor(num / this.up); // integer input position at or before the output
      const phase = num - i * this.up;
      if (i + n >= available) break; // needs x[i - n + 1 .. i + n]
      const first = i - n + 1 - this.bufStart;
      let acc = 0;
      if (this.table) {
        const taps = this.table[phase]!;
        for (let t = 0; t < taps.length; t++) acc += this.buf[first + t]! * taps[t]!;
      } else {
        const frac = phase / this.up;
        for (let t = 0; t < 2 * n; t++) acc += this.buf[first + t]! * this.kernel(frac + n - 1 - t);
      }
      // The low-pass gain is fc relative to the input rate; upsampling needs no extra gain
      // because taps are spaced one input sample apart.
      out.push(acc);
      this.outIndex++;
    }
    // Drop input no future output needs (keep `half` samples before the next position).
    const nextI = Math.floor((this.outIndex * this.down) / this.up);
    const keepFrom = nextI - n + 1;
    const drop = keepFrom - this.bufStart;
    if (drop > 0) {
      this.buf.copyWithin(0, drop, this.bufLen);
      this.bufLen -= drop;
      this.bufStart += drop;
    }
    const res = new Int16Array(out.length);
    for (let k = 0; k < out.length; k++) res[k] = clampInt16(out[k]!);
    return res;
  }
}

/** One-shot resampling of mono 16-bit PCM. Output length is round(n × toRate / fromRate). */
export function resample(samples: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate) return samples.slice();
  const r = new Resampler(fromRate, toRate);
  const a = r.process(samples);
  const b = r.flush();
  const out = new Int16Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
