import { AudioFrame } from '@livekit/rtc-node';
import { downmixToMono } from './pcm.js';
import { encodeWav, readWav } from './wav.js';

/**
 * A clip: mono 16-bit PCM at one sample rate, the unit the pipeline and the simulator pass
 * around, and its conversions to and from WAV files and rtc-node audio frames.
 */
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

/**
 * Reads any WAV `readWav` decodes as a mono clip (stereo is downmixed). Tools that write to a
 * pipe leave a placeholder data size, so a truncated data chunk is accepted.
 */
export function readMonoWav(path: string): Pcm {
  const wav = readWav(path, { allowTruncated: true });
  return { sampleRate: wav.sampleRate, samples: downmixToMono(wav.samples, wav.channels) };
}

/** Encodes a clip as PCM16 WAV; `channels` > 1 means its samples are interleaved. */
export function encodeClipWav(pcm: Pcm, channels = 1): Buffer {
  return encodeWav(pcm.samples, pcm.sampleRate, { channels });
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
