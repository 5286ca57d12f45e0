import { describe, expect, it } from 'vitest';
import { rmsDbfs } from '../../../src/audio/level.js';
import { Resampler, resample } from '../../../src/audio/resample.js';

function sine(seconds: number, rate: number, freq: number, amp = 16000): Int16Array {
  return Int16Array.from({ length: Math.round(seconds * rate) }, (_, i) =>
    Math.round(amp * Math.sin((2 * Math.PI * freq * i) / rate)),
  );
}

/** Amplitude of the `freq` component (single-bin DFT), in the middle of the signal. */
function toneAmplitude(x: Int16Array, rate: number, freq: number): number {
  const start = Math.floor(x.length / 4);
  const n = Math.floor(x.length / 2);
  let re = 0;
  let im = 0;
  for (let i = 0; i < n; i++) {
    const w = (2 * Math.PI * freq * (start + i)) / rate;
    re += x[start + i]! * Math.cos(w);
    im += x[start + i]! * Math.sin(w);
  }
  return (2 * Math.sqrt(re * re + im * im)) / n;
}

/** Max |error| against the ideal sine (middle half, away from the edges). */
function maxErrorVsSine(x: Int16Array, rate: number, freq: number, amp: number): number {
  let worst = 0;
  for (let i = Math.floor(x.length / 4); i < Math.floor((3 * x.length) / 4); i++) {
    worst = Math.max(worst, Math.abs(x[i]! - amp * Math.sin((2 * Math.PI * freq * i) / rate)));
  }
  return worst;
}

describe('resample', () => {
  it('8 kHz → 16 kHz: a 1 kHz sine stays a 1 kHz sine, same level, aligned in time', () => {
    const out = resample(sine(0.5, 8000, 1000), 8000, 16000);
    expect(out.length).toBe(8000);
    expect(toneAmplitude(out, 16000, 1000)).toBeCloseTo(16000, -2);
    // Aligned: sample-by-sample close to the ideal 16 kHz sine (no delay, no phase shift).
    expect(maxErrorVsSine(out, 16000, 1000, 16000)).toBeLessThan(16000 * 0.01);
  });

  it('48 kHz → 16 kHz keeps a 3 kHz tone and removes a 10 kHz one (above the new Nyquist)', () => {
    const a = sine(0.5, 48000, 3000, 10000);
    const b = sine(0.5, 48000, 10000, 10000);
    const mixed = a.map((v, i) => v + b[i]!);
    const out = resample(Int16Array.from(mixed), 48000, 16000);
    expect(out.length).toBe(8000);
    expect(toneAmplitude(out, 16000, 3000)).toBeCloseTo(10000, -2);
    // 10 kHz would alias to 6 kHz: it must be gone (> 60 dB down).
    expect(toneAmplitude(out, 16000, 6000)).toBeLessThan(10);
    expect(maxErrorVsSine(out, 16000, 3000, 10000)).toBeLessThan(100);
  });

  it('handles awkward ratios (44.1 kHz → 16 kHz, 16 kHz → 22.05 kHz)', () => {
    const x = sine(0.3, 44100, 440);
    const out = resample(x, 44100, 16000);
    expect(out.length).toBe(Math.round((x.length * 16000) / 44100));
    expect(maxErrorVsSine(out, 16000, 440, 16000)).toBeLessThan(160);
    const up = resample(sine(0.3, 16000, 440), 16000, 22050);
    expect(maxErrorVsSine(up, 22050, 440, 16000)).toBeLessThan(160);
  });

  it('streaming in odd-sized chunks gives exactly the one-shot result', () => {
    const x = sine(0.4, 8000, 700);
    const whole = resample(x, 8000, 16000);
    const r = new Resampler(8000, 16000);
    const parts: number[] = [];
    for (let off = 0, k = 0; off < x.length; k++) {
      const n = [1, 7, 160, 33, 80][k % 5]!;
      parts.push(...r.process(x.subarray(off, off + n)));
      off += n;
    }
    parts.push(...r.flush());
    expect(parts).toEqual(Array.from(whole));
  });

  it('same rate is a copy; silence stays silent; bad rates are refused', () => {
    const x = sine(0.01, 16000, 100);
    expect(Array.from(resample(x, 16000, 16000))).toEqual(Array.from(x));
    expect(rmsDbfs(resample(new Int16Array(800), 8000, 16000))).toBe(Number.NEGATIVE_INFINITY);
    expect(() => new Resampler(0, 16000)).toThrow(/fromRate must be a positive integer/);
    expect(() => new Resampler(8000, 1.5)).toThrow(/toRate must be a positive integer/);
  });
});
