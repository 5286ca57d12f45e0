import { ReadableStream } from 'node:stream/web';
import { AudioFrame } from '@livekit/rtc-node';
import { describe, expect, it } from 'vitest';
import { frameDbfs, trimLeadingSilence } from '../../../src/pipeline/leading-silence.js';

const RATE = 16000;
const SAMPLES = RATE / 100; // 10 ms frames

function frame(amplitude: number): AudioFrame {
  const data = new Int16Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) data[i] = Math.round(amplitude * Math.sin(i / 3));
  return new AudioFrame(data, RATE, 1, SAMPLES);
}

async function run(frames: AudioFrame[], options = {}): Promise<AudioFrame[]> {
  const source = new ReadableStream<AudioFrame>({
    start(controller) {
      for (const f of frames) controller.enqueue(f);
      controller.close();
    },
  });
  const out: AudioFrame[] = [];
  for await (const f of trimLeadingSilence(source, options)) out.push(f);
  return out;
}

describe('trimLeadingSilence', () => {
  it('drops the silence before the first voiced frame, keeping the last 20 ms of it', async () => {
    const quiet = Array.from({ length: 25 }, () => frame(5));
    const voiced = [frame(8000), frame(5), frame(8000)];
    const out = await run([...quiet, ...voiced]);
    expect(out).toHaveLength(2 + voiced.length);
    expect(out.slice(2)).toEqual(voiced);
    expect(frameDbfs(out[2]!)).toBeGreaterThan(-50);
  });

  it('never drops more than maxTrimMs of a reply that stays quiet', async () => {
    const quiet = Array.from({ length: 60 }, () => frame(5));
    const out = await run(quiet, { maxTrimMs: 400 });
    // 400 ms dropped, then everything plays (a quiet reply is still a reply)
    expect(out.length).toBeGreaterThanOrEqual(60 - 40);
    expect(out.length).toBeLessThan(60);
  });

  it('passes a reply that starts voiced untouched', async () => {
    const frames = [frame(8000), frame(4), frame(8000)];
    expect(await run(frames)).toEqual(frames);
  });
});
