import { type APIConnectOptions, shortuuid, tts } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { sleep } from '../../util/async.js';

/**
 * FAKE text-to-speech for tests, benchmarks and the simulator: it returns a short, audible
 * tone (a 440 Hz sine with a little noise, so it is never mistaken for silence) immediately,
 * with no synthesis latency. Its length follows the text: `msPerChar` per character, clamped
 * to [minMs, maxMs]. Non-streaming like the real providers (OpenAI TTS, flite), so the
 * framework wraps it in its sentence-splitting StreamAdapter exactly as it does for them.
 */
export interface FakeTTSOptions {
  /** Default 16000. */
  sampleRate?: number;
  /** Default 12 ms of audio per character. */
  msPerChar?: number;
  /** Default 150 ms. */
  minMs?: number;
  /** Default 4000 ms. */
  maxMs?: number;
  /** Default 440 Hz. */
  frequencyHz?: number;
  /** Peak amplitude 0..1. Default 0.3 (about -13 dBFS RMS). */
  amplitude?: number;
  /** Artificial time to first byte, for latency tests. Default 0. */
  delayMs?: number;
}

const FRAME_MS = 20;

export class FakeTTS extends tts.TTS {
  label = 'fake.TTS';
  readonly options: Required<FakeTTSOptions>;
  /** Every text synthesized, in order (handy for assertions). */
  readonly spoken: string[] = [];

  constructor(options: FakeTTSOptions = {}) {
    const sampleRate = options.sampleRate ?? 16000;
    super(sampleRate, 1, { streaming: false });
    this.options = {
      sampleRate,
      msPerChar: options.msPerChar ?? 12,
      minMs: options.minMs ?? 150,
      maxMs: options.maxMs ?? 4000,
      frequencyHz: options.frequencyHz ?? 440,
      amplitude: options.amplitude ?? 0.3,
      delayMs: options.delayMs ?? 0,
    };
  }

  override get model(): string {
    return 'fake';
  }

  override get provider(): string {
    return 'fake';
  }

  /** Duration of the audio this TTS produces for `text`, in ms. */
  durationFor(text: string): number {
    const { msPerChar, minMs, maxMs } = this.options;
    return Math.min(maxMs, Math.max(minMs, text.trim().length * msPerChar));
  }

  synthesize(text: string, connOptions?: APIConnectOptions, abortSignal?: AbortSignal): tts.ChunkedStream {
    this.spoken.push(text);
    return new FakeChunkedStream(this, text, connOptions, abortSignal);
  }

  stream(): tts.SynthesizeStream {
    throw new Error('fake.TTS is not streaming; the framework wraps it in tts.StreamAdapter');
  }
}

class FakeChunkedStream extends tts.ChunkedStream {
  label = 'fake.ChunkedStream';
  readonly #tts: FakeTTS;

  constructor(fake: FakeTTS, text: string, connOptions?: APIConnectOptions, abortSignal?: AbortSignal) {
    super(text, fake, connOptions, abortSignal);
    this.#tts = fake;
  }

  protected async run(): Promise<void> {
    const { sampleRate, frequencyHz, amplitude, delayMs } = this.#tts.options;
    if (delayMs > 0) await sleep(delayMs);
    const totalMs = this.#tts.durationFor(this.inputText);
    const frameSamples = Math.round((sampleRate * FRAME_MS) / 1000);
    const frames = Math.max(1, Math.round(totalMs / FRAME_MS));
    const requestId = shortuuid('fake_tts_');
    const peak = amplitude * 32767;
    let n = 0;
    for (let f = 0; f < frames; f++) {
      if (this.abortSignal.aborted) break;
      const data = new Int16Array(frameSamples);
      for (let i = 0; i < frameSamples; i++, n++) {
        const tone = Math.sin((2 * Math.PI * frequencyHz * n) / sampleRate);
        data[i] = Math.round(peak * (0.9 * tone + 0.1 * (Math.random() * 2 - 1)));
      }
      this.queue.put({
        requestId,
        segmentId: requestId,
        frame: new AudioFrame(data, sampleRate, 1, frameSamples),
        final: f === frames - 1,
      });
    }
    this.queue.close();
  }
}
