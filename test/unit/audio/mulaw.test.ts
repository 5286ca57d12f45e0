import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  alawDecode,
  alawEncode,
  mulawDecode,
  mulawDecodeSample,
  mulawEncode,
  mulawEncodeSample,
} from '../../../src/audio/mulaw.js';

const ramp = Int16Array.from({ length: 65536 / 8 }, (_, i) => -32768 + i * 8);

describe('G.711 companding', () => {
  it('μ-law: known code points', () => {
    expect(mulawEncodeSample(0)).toBe(0xff);
    expect(mulawEncodeSample(32767)).toBe(0x80);
    expect(mulawEncodeSample(-32768)).toBe(0x00);
    expect(mulawDecodeSample(0xff)).toBe(0);
    expect(mulawDecodeSample(0x80)).toBe(32124);
    expect(mulawDecodeSample(0x00)).toBe(-32124);
  });

  it('μ-law: every code decodes and re-encodes to itself (except negative zero)', () => {
    for (let code = 0; code < 256; code++) {
      const back = mulawEncodeSample(mulawDecodeSample(code));
      expect(back).toBe(code === 0x7f ? 0xff : code);
    }
  });

  it('μ-law round trip keeps the error within the quantisation step (≤ ~3 % + 8 LSB)', () => {
    const back = mulawDecode(mulawEncode(ramp));
    for (let i = 0; i < ramp.length; i++) {
      const x = ramp[i]!;
      const clipped = Math.max(-32124, Math.min(32124, x));
      expect(Math.abs(back[i]! - clipped)).toBeLessThanOrEqual(Math.abs(clipped) * 0.032 + 8);
    }
  });

  it('A-law round trip keeps the error within the quantisation step', () => {
    const back = alawDecode(alawEncode(ramp));
    for (let i = 0; i < ramp.length; i++) {
      const x = ramp[i]!;
      expect(Math.abs(back[i]! - x)).toBeLessThanOrEqual(Math.abs(x) * 0.032 + 16);
    }
  });

  it('encodes exactly as sox does', () => {
    const input = Buffer.from(ramp.buffer);
    for (const [enc, fn] of [
      ['u-law', mulawEncode],
      ['a-law', alawEncode],
    ] as const) {
      const viaSox = execFileSync(
        'sox',
        ['-D', '-t', 's16', '-r', '8000', '-c', '1', '-', '-t', 'raw', '-e', enc, '-'],
        {
          input,
        },
      );
      expect(Buffer.from(fn(ramp)).equals(viaSox)).toBe(true);
    }
  });
});
