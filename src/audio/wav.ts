import { readFileSync, writeFileSync } from 'node:fs';
import { alawDecode, alawEncode, mulawDecode, mulawEncode } from './mulaw.js';
import { bytesToInt16, clampInt16, int16ToBytes } from './pcm.js';

/**
 * WAV (RIFF/WAVE) reading and writing. Reading decodes every common telephone / TTS encoding
 * to 16-bit linear PCM; anything else is refused with a WavFormatError that says what was
 * found and what is supported.
 */

export type WavEncoding = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'mulaw' | 'alaw';

export interface Wav {
  sampleRate: number;
  channels: number;
  /** Encoding found in the file (samples are always decoded to 16-bit linear). */
  encoding: WavEncoding;
  /** Interleaved 16-bit linear samples; length = frames × channels. */
  samples: Int16Array;
}

export interface ReadWavOptions {
  /**
   * Accept a data chunk whose declared size runs past the end of the input (the header of a
   * WAV written to a pipe, e.g. `espeak-ng --stdout`, declares a huge placeholder size).
   * Default false: such a file is reported as truncated.
   */
  allowTruncated?: boolean;
}

export class WavFormatError extends Error {
  constructor(
    message: string,
    readonly source?: string,
  ) {
    super(source ? `${source}: ${message}` : message);
    this.name = 'WavFormatError';
  }
}

const SUPPORTED =
  'supported: PCM 8/16/24/32-bit integer, IEEE float 32-bit, G.711 μ-law and A-law (format tags 1, 3, 6, 7, 0xFFFE)';

const FORMAT_NAMES: Record<number, string> = {
  2: 'Microsoft ADPCM',
  17: 'IMA ADPCM',
  49: 'GSM 6.10',
  64: 'G.721 ADPCM',
  80: 'MPEG',
  85: 'MP3',
};

export function parseWav(input: Uint8Array, options: ReadWavOptions = {}, source?: string): Wav {
  const fail = (msg: string): never => {
    throw new WavFormatError(msg, source);
  };
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (buf.length < 12) fail(`not a WAV file: only ${buf.length} bytes (a RIFF/WAVE header needs 12)`);
  const riff = buf.toString('latin1', 0, 4);
  if (riff === 'RIFX') fail('big-endian WAV (RIFX) is not supported');
  if (riff === 'RF64') fail('RF64 (64-bit) WAV is not supported');
  if (riff !== 'RIFF') fail(`not a WAV file: expected "RIFF" at offset 0, found ${JSON.stringify(riff)}`);
  const wave = buf.toString('latin1', 8, 12);
  if (wave !== 'WAVE') fail(`not a WAV file: RIFF form type is ${JSON.stringify(wave)}, expected "WAVE"`);

  let fmt:
    | { tag: number; channels: number; sampleRate: number; blockAlign: number; bitsPerSample: number }
    | undefined;
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      if (size < 16) fail(`fmt chunk is ${size} bytes, expected at least 16`);
      if (body + 16 > buf.length) fail('file ends inside the fmt chunk');
      let tag = buf.readUInt16LE(body);
      const channels = buf.readUInt16LE(body + 2);
      const sampleRate = buf.readUInt32LE(body + 4);
      const blockAlign = buf.readUInt16LE(body + 12);
      const bitsPerSample = buf.readUInt16LE(body + 14);
      if (tag === 0xfffe) {
        // WAVE_FORMAT_EXTENSIBLE: the real format tag is the first 2 bytes of the sub-format GUID.
        if (size < 40 || body + 26 > buf.length) fail('WAVE_FORMAT_EXTENSIBLE fmt chunk is too short');
        tag = buf.readUInt16LE(body + 24);
      }
      if (channels < 1) fail('fmt chunk declares 0 channels');
      if (sampleRate < 1) fail('fmt chunk declares a sample rate of 0');
      fmt = { tag, channels, sampleRate, blockAlign, bitsPerSample };
    } else if (id === 'data') {
      if (!fmt) fail('data chunk comes before any fmt chunk');
      const f = fmt!;
      const encoding = encodingOf(f.tag, f.bitsPerSample, fail);
      const bytesPerSample = BYTES[encoding];
      const expectedAlign = bytesPerSample * f.channels;
      if (f.blockAlign !== expectedAlign) {
        fail(
          `fmt chunk block align is ${f.blockAlign}, expected ${expectedAlign} for ${f.channels} channel(s) of ${f.bitsPerSample}-bit ${encoding}`,
        );
      }
      let end = body + size;
      if (end > buf.length) {
        if (!options.allowTruncated) {
          fail(
            `data chunk declares ${size} bytes but only ${buf.length - body} are present (truncated file?)`,
          );
        }
        end = buf.length;
      }
      const usable = end - body - ((end - body) % expectedAlign);
      const data = buf.subarray(body, body + usable);
      return { sampleRate: f.sampleRate, channels: f.channels, encoding, samples: decode(encoding, data) };
    }
    off = body + size + (size % 2);
  }
  if (!fmt) fail('no fmt chunk found');
  return fail('no data chunk found');
}

export function readWav(path: string, options?: ReadWavOptions): Wav {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new WavFormatError(`cannot read file: ${(err as Error).message}`, path);
  }
  return parseWav(bytes, options, path);
}

const BYTES: Record<WavEncoding, number> = {
  pcm8: 1,
  pcm16: 2,
  pcm24: 3,
  pcm32: 4,
  float32: 4,
  mulaw: 1,
  alaw: 1,
};

function encodingOf(tag: number, bits: number, fail: (m: string) => never): WavEncoding {
  switch (tag) {
    case 1:
      if (bits === 8) return 'pcm8';
      if (bits === 16) return 'pcm16';
      if (bits === 24) return 'pcm24';
      if (bits === 32) return 'pcm32';
      return fail(`unsupported PCM bit depth ${bits}; ${SUPPORTED}`);
    case 3:
      if (bits === 32) return 'float32';
      return fail(`unsupported IEEE float bit depth ${bits}; ${SUPPORTED}`);
    case 6:
      if (bits === 8) return 'alaw';
      return fail(`A-law with ${bits} bits per sample; expected 8`);
    case 7:
      if (bits === 8) return 'mulaw';
      return fail(`μ-law with ${bits} bits per sample; expected 8`);
    default: {
      const name = FORMAT_NAMES[tag];
      return fail(
        `unsupported WAV encoding: format tag 0x${tag.toString(16).padStart(4, '0')}${name ? ` (${name})` : ''}; ${SUPPORTED}`,
      );
    }
  }
}

function decode(encoding: WavEncoding, data: Buffer): Int16Array {
  switch (encoding) {
    case 'pcm16':
      return bytesToInt16(data).slice();
    case 'mulaw':
      return mulawDecode(data);
    case 'alaw':
      return alawDecode(data);
    case 'pcm8': {
      const out = new Int16Array(data.length);
      for (let i = 0; i < data.length; i++) out[i] = (data[i]! - 128) << 8;
      return out;
    }
    case 'pcm24': {
      const out = new Int16Array(data.length / 3);
      for (let i = 0; i < out.length; i++) out[i] = data.readIntLE(i * 3, 3) >> 8;
      return out;
    }
    case 'pcm32': {
      const out = new Int16Array(data.length / 4);
      for (let i = 0; i < out.length; i++) out[i] = data.readInt32LE(i * 4) >> 16;
      return out;
    }
    case 'float32': {
      const out = new Int16Array(data.length / 4);
      for (let i = 0; i < out.length; i++) {
        const v = data.readFloatLE(i * 4);
        out[i] = Number.isNaN(v) ? 0 : clampInt16(v * 32768);
      }
      return out;
    }
  }
}

export interface WriteWavOptions {
  /** Default 'pcm16'. */
  encoding?: 'pcm16' | 'mulaw' | 'alaw';
  /** Default 1; `samples` are interleaved when > 1. */
  channels?: number;
}

/** Encodes 16-bit linear samples as a WAV file (PCM16, μ-law or A-law). */
export function encodeWav(samples: Int16Array, sampleRate: number, options: WriteWavOptions = {}): Buffer {
  const encoding = options.encoding ?? 'pcm16';
  const channels = options.channels ?? 1;
  if (!Number.isInteger(sampleRate) || sampleRate < 1)
    throw new RangeError(`invalid sample rate ${sampleRate}`);
  if (!Number.isInteger(channels) || channels < 1) throw new RangeError(`invalid channel count ${channels}`);
  if (samples.length % channels !== 0) {
    throw new RangeError(`${samples.length} samples is not a whole number of ${channels}-channel frames`);
  }
  const data: Uint8Array =
    encoding === 'pcm16'
      ? int16ToBytes(samples)
      : encoding === 'mulaw'
        ? mulawEncode(samples)
        : alawEncode(samples);
  const bytesPerSample = encoding === 'pcm16' ? 2 : 1;
  const companded = encoding !== 'pcm16';
  // Non-PCM formats carry cbSize in fmt and a fact chunk (sample frame count), as the spec asks.
  const fmtSize = companded ? 18 : 16;
  const factSize = companded ? 12 : 0;
  const pad = data.length % 2;
  const total = 12 + 8 + fmtSize + factSize + 8 + data.length + pad;
  const out = Buffer.alloc(total);
  let o = 0;
  out.write('RIFF', o, 'latin1');
  out.writeUInt32LE(total - 8, o + 4);
  out.write('WAVE', o + 8, 'latin1');
  o = 12;
  out.write('fmt ', o, 'latin1');
  out.writeUInt32LE(fmtSize, o + 4);
  out.writeUInt16LE(encoding === 'pcm16' ? 1 : encoding === 'alaw' ? 6 : 7, o + 8);
  out.writeUInt16LE(channels, o + 10);
  out.writeUInt32LE(sampleRate, o + 12);
  out.writeUInt32LE(sampleRate * channels * bytesPerSample, o + 16);
  out.writeUInt16LE(channels * bytesPerSample, o + 20);
  out.writeUInt16LE(bytesPerSample * 8, o + 22);
  if (companded) out.writeUInt16LE(0, o + 24);
  o += 8 + fmtSize;
  if (companded) {
    out.write('fact', o, 'latin1');
    out.writeUInt32LE(4, o + 4);
    out.writeUInt32LE(samples.length / channels, o + 8);
    o += factSize;
  }
  out.write('data', o, 'latin1');
  out.writeUInt32LE(data.length, o + 4);
  out.set(data, o + 8);
  return out;
}

export function writeWav(
  path: string,
  samples: Int16Array,
  sampleRate: number,
  options?: WriteWavOptions,
): void {
  writeFileSync(path, encodeWav(samples, sampleRate, options));
}
