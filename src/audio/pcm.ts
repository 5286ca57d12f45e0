/**
 * Small helpers for 16-bit linear PCM held in Int16Array (the format every part of the
 * pipeline speaks: LiveKit AudioFrame data, pocketsphinx input, WAV files).
 */

/** Int16 → Float32 in [-1, 1). */
export function int16ToFloat32(samples: Int16Array): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! / 32768;
  return out;
}

/** Rounds and clamps a sample value to the int16 range. */
export function clampInt16(v: number): number {
  return Math.min(32767, Math.max(-32768, Math.round(v)));
}

/** Clamps and rounds one float sample in [-1, 1] to int16. */
export function floatToInt16Sample(v: number): number {
  return clampInt16(v * 32768);
}

/** Float32 in [-1, 1] → Int16 (clamped). */
export function float32ToInt16(samples: Float32Array | Float64Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = floatToInt16Sample(samples[i]!);
  return out;
}

/**
 * Views (or copies, when the byte offset is odd) little-endian 16-bit PCM bytes as Int16Array.
 * A trailing odd byte is ignored.
 */
export function bytesToInt16(bytes: Uint8Array): Int16Array {
  const n = bytes.byteLength >> 1;
  if (bytes.byteOffset % 2 === 0) return new Int16Array(bytes.buffer, bytes.byteOffset, n);
  const copy = new Uint8Array(n * 2);
  copy.set(bytes.subarray(0, n * 2));
  return new Int16Array(copy.buffer);
}

/** The bytes of an Int16Array (little-endian on every platform Node supports). */
export function int16ToBytes(samples: Int16Array): Buffer {
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
}

export function concatInt16(parts: readonly Int16Array[]): Int16Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Int16Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Averages interleaved channels into one. */
export function downmixToMono(interleaved: Int16Array, channels: number): Int16Array {
  if (channels === 1) return interleaved;
  if (!Number.isInteger(channels) || channels < 1) throw new RangeError(`invalid channel count ${channels}`);
  const frames = Math.floor(interleaved.length / channels);
  const out = new Int16Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += interleaved[f * channels + c]!;
    out[f] = Math.round(sum / channels);
  }
  return out;
}

/** Splits samples into consecutive chunks of `size` (the last one may be shorter). */
export function* chunkSamples(samples: Int16Array, size: number): Generator<Int16Array> {
  if (!Number.isInteger(size) || size <= 0) throw new RangeError(`chunk size must be a positive integer`);
  for (let off = 0; off < samples.length; off += size) {
    yield samples.subarray(off, Math.min(samples.length, off + size));
  }
}

/** Number of samples in `ms` milliseconds at `sampleRate`. */
export function samplesForMs(sampleRate: number, ms: number): number {
  return Math.round((sampleRate * ms) / 1000);
}
