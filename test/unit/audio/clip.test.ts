import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeClipWav, framesToPcm, pcmToFrames, readMonoWav, silence } from '../../../src/audio/clip.js';
import { encodeWav } from '../../../src/audio/wav.js';

const dir = mkdtempSync(join(tmpdir(), 'clip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('audio clips', () => {
  it('reads a stereo WAV as its mono downmix', () => {
    const path = join(dir, 'stereo.wav');
    writeFileSync(path, encodeWav(Int16Array.from([100, 300, -200, -400]), 8000, { channels: 2 }));
    const clip = readMonoWav(path);
    expect(clip.sampleRate).toBe(8000);
    expect(Array.from(clip.samples)).toEqual([200, -300]);
  });

  it('reads a WAV whose data size is a pipe placeholder', () => {
    const bytes = encodeClipWav({ sampleRate: 16000, samples: Int16Array.from([1, 2, 3, 4]) });
    bytes.writeUInt32LE(0xffffffff, 40);
    const path = join(dir, 'piped.wav');
    writeFileSync(path, bytes);
    expect(Array.from(readMonoWav(path).samples)).toEqual([1, 2, 3, 4]);
  });

  it('splits into zero-padded frames and joins them back', () => {
    const samples = Int16Array.from({ length: 500 }, (_, i) => i);
    const frames = pcmToFrames({ sampleRate: 16000, samples }, 20);
    expect(frames.map((f) => f.samplesPerChannel)).toEqual([320, 320]);
    const joined = framesToPcm(frames);
    expect(joined.samples.length).toBe(640);
    expect(Array.from(joined.samples.subarray(0, 500))).toEqual(Array.from(samples));
    expect(joined.samples.subarray(500).every((s) => s === 0)).toBe(true);
  });

  it('makes silence of the asked length', () => {
    expect(silence(8000, 250).samples.length).toBe(2000);
  });
});
