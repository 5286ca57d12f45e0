import { readFile, writeFile } from 'node:fs/promises';
import { AudioFrame } from '@livekit/rtc-node';

/** Mono 16-bit PCM. */
export interface Pcm {
  sampleRate: number;
  samples: Int16Array;
}

export function pcmDurationMs(pcm: Pcm): number {
  return (pcm.samples.length / pcm.sampleRate) * 1000;
}

export function silence(sampleRate: number, ms: number): Pcm {
  return { sampleRate, samples: new Int16Array(Math.round((sampleRate * ms) / 1000)) };
}

/** Parses a PCM16 WAV (mono, or stereo downmixed to mono). */
export function parseWav(buf: Buffer): Pcm {
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE file');
  }
  let off = 12;
  let sampleRate = 0;
  let channels = 0;
  let bits = 0;
  let format = 0;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    let size = buf.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      format = buf.readUInt16LE(off + 8);
      channels = buf.readUInt16LE(off + 10);
      sampleRate = buf.readUInt32LE(off + 12);
      bits = buf.readUInt16LE(off + 22);
    } else if (id === 'data') {
      if ((format !== 1 && format !== 0xfffe) || bits !== 16) {
        throw new Error(`unsupported WAV encoding (format ${format}, ${bits} bits); expected PCM16`);
      }
      // Streams written by some tools leave the size at 0 or 0xffffffff.
      if (size === 0 || off + 8 + size > buf.length) size = buf.length - off - 8;
      const bytes = buf.subarray(off + 8, off + 8 + size - (size % (2 * channels)));
      const interleaved = new Int16Array(
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
      );
      if (channels <= 1) return { sampleRate, samples: interleaved };
      const mono = new Int16Array(interleaved.length / channels);
      for (let i = 0; i < mono.length; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += interleaved[i * channels + c]!;
        mono[i] = Math.round(sum / channels);
      }
      return { sampleRate, samples: mono };
    }
    off += 8 + size + (size % 2);
  }
  throw new Error('WAV has no data chunk');
}

export async function readWav(path: string): Promise<Pcm> {
  return parseWav(await readFile(path));
}

export function encodeWav(pcm: Pcm, channels = 1): Buffer {
  const dataBytes = pcm.samples.length * 2;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(channels, 22);
  buf.writeUInt32LE(pcm.sampleRate, 24);
  buf.writeUInt32LE(pcm.sampleRate * 2 * channels, 28);
  buf.writeUInt16LE(2 * channels, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  Buffer.from(pcm.samples.buffer, pcm.samples.byteOffset, dataBytes).copy(buf, 44);
  return buf;
}

export async function writeWav(path: string, pcm: Pcm): Promise<void> {
  await writeFile(path, encodeWav(pcm));
}

/** Splits PCM into frames of `frameMs` (the last one zero-padded). */
export function pcmToFrames(pcm: Pcm, frameMs = 20): AudioFrame[] {
  const n = Math.round((pcm.sampleRate * frameMs) / 1000);
  const frames: AudioFrame[] = [];
  for (let off = 0; off < pcm.samples.length; off += n) {
    const data = new Int16Array(n);
    data.set(pcm.samples.subarray(off, Math.min(off + n, pcm.samples.length)));
    frames.push(new AudioFrame(data, pcm.sampleRate, 1, n));
  }
  return frames;
}

/** Concatenates mono frames of one sample rate (frames of another rate are skipped). */
export function framesToPcm(frames: readonly AudioFrame[], sampleRate?: number): Pcm {
  const rate = sampleRate ?? frames[0]?.sampleRate ?? 16000;
  const usable = frames.filter((f) => f.sampleRate === rate && f.channels === 1);
  const total = usable.reduce((sum, f) => sum + f.samplesPerChannel, 0);
  const samples = new Int16Array(total);
  let off = 0;
  for (const f of usable) {
    samples.set(f.data.subarray(0, f.samplesPerChannel), off);
    off += f.samplesPerChannel;
  }
  return { sampleRate: rate, samples };
}

/** RMS level in dBFS (-Infinity for empty or digital silence). */
export function rmsDbfs(samples: Int16Array): number {
  if (samples.length === 0) return Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  return 20 * Math.log10(Math.sqrt(sum / samples.length) / 32768);
}
