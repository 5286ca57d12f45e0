import { describe, expect, it } from 'vitest';
import {
  addNoiseFloor,
  isSilent,
  NoiseFloor,
  peakDbfs,
  rmsDbfs,
  soundSpans,
  trimSilence,
} from '../../../src/audio/level.js';
import {
  chunkSamples,
  concatInt16,
  downmixToMono,
  float32ToInt16,
  int16ToFloat32,
} from '../../../src/audio/pcm.js';

describe('levels and noise floor', () => {
  it('measures RMS and peak in dBFS', () => {
    expect(rmsDbfs(new Int16Array(100).fill(32767))).toBeCloseTo(0, 3);
    expect(rmsDbfs(new Int16Array(100).fill(3277))).toBeCloseTo(-20, 1);
    expect(peakDbfs(Int16Array.from([0, -16384, 100]))).toBeCloseTo(-6.02, 2);
    expect(rmsDbfs(new Int16Array(10))).toBe(Number.NEGATIVE_INFINITY);
    expect(isSilent(new Int16Array(160))).toBe(true);
    expect(isSilent(new Int16Array(160).fill(2000))).toBe(false);
  });

  it('adds a -54 dBFS floor to digital silence, continuing across chunks, deterministically', () => {
    const silence = new Int16Array(16000);
    const noisy = addNoiseFloor(silence);
    expect(rmsDbfs(noisy)).toBeGreaterThan(-54.5);
    expect(rmsDbfs(noisy)).toBeLessThan(-53.5);
    expect(Array.from(addNoiseFloor(silence))).toEqual(Array.from(noisy)); // same seed
    const floor = new NoiseFloor(-54);
    const a = floor.apply(silence.subarray(0, 8000));
    const b = floor.apply(silence.subarray(8000));
    expect(Array.from(concatInt16([a, b]))).toEqual(Array.from(noisy));
    expect(rmsDbfs(new NoiseFloor(-40).apply(silence))).toBeCloseTo(-40, 0);
  });

  it('finds and trims sound', () => {
    const x = new Int16Array(16000);
    x.fill(8000, 4000, 8000); // 250–500 ms
    x.fill(8000, 10000, 11000); // 625–687 ms
    expect(soundSpans(x, 16000, { minSilenceMs: 100 })).toEqual([
      { start: 3840, end: 8000 },
      { start: 9920, end: 11200 },
    ]);
    expect(soundSpans(x, 16000, { minSilenceMs: 300 })).toHaveLength(1);
    const trimmed = trimSilence(x, 16000, { padMs: 0 });
    expect(trimmed.length).toBe(11200 - 3840);
    expect(trimSilence(new Int16Array(1000), 16000).length).toBe(0);
  });
});

describe('pcm helpers', () => {
  it('converts, downmixes and chunks', () => {
    expect(Array.from(float32ToInt16(int16ToFloat32(Int16Array.from([0, 1, -32768, 32767]))))).toEqual([
      0, 1, -32768, 32767,
    ]);
    expect(Array.from(float32ToInt16(Float32Array.from([2, -2])))).toEqual([32767, -32768]);
    expect(Array.from(downmixToMono(Int16Array.from([100, 300, -10, 10]), 2))).toEqual([200, 0]);
    expect([...chunkSamples(new Int16Array(700), 320)].map((c) => c.length)).toEqual([320, 320, 60]);
  });
});
