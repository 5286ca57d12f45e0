/**
 * G.711 μ-law and A-law companding (ITU-T G.711), the codecs of telephone audio (PCMU/PCMA).
 * Encoding follows the reference algorithm (bias 0x84, clip at 32635); decoding is by table.
 */

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32635;

/** Encodes one 16-bit linear sample to a μ-law byte. */
export function mulawEncodeSample(sample: number): number {
  let s = sample | 0;
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > MULAW_CLIP) s = MULAW_CLIP;
  s += MULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** Decodes one μ-law byte to a 16-bit linear sample. */
export function mulawDecodeSample(byte: number): number {
  const u = ~byte & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS;
  return sign ? -magnitude : magnitude;
}

/** Encodes one 16-bit linear sample to an A-law byte. */
export function alawEncodeSample(sample: number): number {
  let s = sample | 0;
  const sign = s >= 0 ? 0x80 : 0;
  if (s < 0) s = -s - 1;
  if (s > 32767) s = 32767;
  let out: number;
  if (s < 256) {
    out = s >> 4;
  } else {
    let exponent = 7;
    for (let mask = 0x4000; (s & mask) === 0 && exponent > 1; mask >>= 1) exponent--;
    out = (exponent << 4) | ((s >> (exponent + 3)) & 0x0f);
  }
  return (sign | out) ^ 0x55;
}

/** Decodes one A-law byte to a 16-bit linear sample. */
export function alawDecodeSample(byte: number): number {
  const a = (byte ^ 0x55) & 0xff;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  let magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  if (magnitude > 32767) magnitude = 32767;
  return a & 0x80 ? magnitude : -magnitude;
}

const MULAW_TABLE = new Int16Array(256);
const ALAW_TABLE = new Int16Array(256);
for (let i = 0; i < 256; i++) {
  MULAW_TABLE[i] = mulawDecodeSample(i);
  ALAW_TABLE[i] = alawDecodeSample(i);
}

export const mulawEncode = (samples: Int16Array): Uint8Array => Uint8Array.from(samples, mulawEncodeSample);

export const mulawDecode = (bytes: Uint8Array): Int16Array => Int16Array.from(bytes, (b) => MULAW_TABLE[b]!);

export const alawEncode = (samples: Int16Array): Uint8Array => Uint8Array.from(samples, alawEncodeSample);

export const alawDecode = (bytes: Uint8Array): Int16Array => Int16Array.from(bytes, (b) => ALAW_TABLE[b]!);
