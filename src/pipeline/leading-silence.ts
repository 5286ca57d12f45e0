import { ReadableStream } from 'node:stream/web';
import type { AudioFrame } from '@livekit/rtc-node';

/**
 * Drops the silence a TTS puts before each reply's first word. flite starts every synthesis
 * with 200–250 ms of near-silence; the worker used to publish it, so the caller heard the
 * agent that much later than the worker's first frame (measured from the first frame handed
 * to the audio output). Frames quieter than `thresholdDbfs` at the start of a segment are
 * dropped, keeping the last `keepMs` of them so the first word does not start abruptly, and
 * never more than `maxTrimMs` (a reply that is quiet on purpose still plays).
 */
export interface LeadingSilenceOptions {
  /** Frames below this RMS level count as silence. Default -50 dBFS. */
  thresholdDbfs?: number;
  /** Silence kept just before the first voiced frame. Default 20 ms. */
  keepMs?: number;
  /** The most silence dropped from one segment. Default 400 ms. */
  maxTrimMs?: number;
}

export function frameDbfs(frame: AudioFrame): number {
  const data = frame.data;
  if (data.length === 0) return -Infinity;
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    const s = data[i]!;
    sum += s * s;
  }
  const rms = Math.sqrt(sum / data.length);
  return rms > 0 ? 20 * Math.log10(rms / 32768) : -Infinity;
}

const frameMs = (f: AudioFrame) => (f.samplesPerChannel / f.sampleRate) * 1000;

export function trimLeadingSilence(
  audio: ReadableStream<AudioFrame>,
  options: LeadingSilenceOptions = {},
): ReadableStream<AudioFrame> {
  const threshold = options.thresholdDbfs ?? -50;
  const keepMs = options.keepMs ?? 20;
  const maxTrimMs = options.maxTrimMs ?? 400;
  const reader = audio.getReader();
  let held: AudioFrame[] = [];
  let heldMs = 0;
  let droppedMs = 0;
  let voiced = false;
  return new ReadableStream<AudioFrame>({
    async pull(controller) {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          for (const f of held) controller.enqueue(f);
          held = [];
          controller.close();
          return;
        }
        if (voiced) {
          controller.enqueue(value);
          return;
        }
        if (frameDbfs(value) >= threshold || droppedMs >= maxTrimMs) {
          voiced = true;
          for (const f of held) controller.enqueue(f);
          held = [];
          controller.enqueue(value);
          return;
        }
        // Still silent: hold the last keepMs of it, drop what falls out of that window.
        held.push(value);
        heldMs += frameMs(value);
        while (held.length > 1 && heldMs - frameMs(held[0]!) >= keepMs) {
          const dropped = held.shift()!;
          heldMs -= frameMs(dropped);
          droppedMs += frameMs(dropped);
        }
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
