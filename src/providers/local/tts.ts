import { type APIConnectOptions, shortuuid, tts } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import {
  assertVoiceAvailable,
  parseVoice,
  SentenceBuffer,
  splitSentences,
  synthesizeText,
  type VoiceSpec,
  voiceSampleRate,
} from './synth.js';

/** Runs `body`; once `signal` is aborted (barge-in, close()) the killed synthesizer's error is not a failure. */
async function unlessAborted(signal: AbortSignal, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}

export interface LocalTTSOptions {
  /**
   * Voice: flite "slt" (default), "awb", "rms", "kal16", "kal" (8 kHz), or an espeak-ng voice as
   * "espeak-ng:en-us" / "espeak-ng:en-us+f3". The TTS's sample rate follows the voice.
   */
  voice?: string;
  /** Audio frame length; default 20 ms. */
  frameMs?: number;
  /** espeak-ng speaking rate, words per minute (default 165). */
  wordsPerMinute?: number;
  /** Split sentences longer than this at commas (default 160 characters). */
  maxSentenceChars?: number;
  /** Sentences synthesized concurrently, ahead of playback (default 2). */
  concurrency?: number;
}

/**
 * Offline text-to-speech for `@livekit/agents` on flite / espeak-ng.
 *
 * Text is split into sentences and each sentence's audio is emitted as soon as it is
 * synthesized, so time to first audio is one sentence's synthesis (~20–90 ms with flite),
 * not the whole reply's. `synthesize()` does this for a whole text; `stream()` accepts text
 * incrementally (LLM tokens) and synthesizes each sentence as soon as it is complete.
 */
export class LocalTTS extends tts.TTS {
  label = 'local.TTS';
  readonly voice: VoiceSpec;
  readonly #options: Required<Omit<LocalTTSOptions, 'voice'>>;

  constructor(options: LocalTTSOptions = {}) {
    const voice = parseVoice(options.voice ?? 'slt');
    super(voiceSampleRate(voice), 1, { streaming: true });
    assertVoiceAvailable(voice);
    this.voice = voice;
    this.#options = {
      frameMs: options.frameMs ?? 20,
      wordsPerMinute: options.wordsPerMinute ?? 165,
      maxSentenceChars: options.maxSentenceChars ?? 160,
      concurrency: Math.max(1, options.concurrency ?? 2),
    };
  }

  override get model(): string {
    return `${this.voice.engine}:${this.voice.voice}`;
  }

  override get provider(): string {
    return this.voice.engine;
  }

  synthesize(text: string, connOptions?: APIConnectOptions, abortSignal?: AbortSignal): LocalChunkedStream {
    return new LocalChunkedStream(this, text, connOptions, abortSignal);
  }

  stream(options?: { connOptions?: APIConnectOptions }): LocalSynthesizeStream {
    return new LocalSynthesizeStream(this, options?.connOptions);
  }

  /** @internal */
  get options(): Required<Omit<LocalTTSOptions, 'voice'>> {
    return this.#options;
  }
}

interface Job {
  text: string;
  audio: Promise<Int16Array>;
}

/**
 * Runs sentence syntheses at most `concurrency` at a time, in order, and hands their audio out
 * in order.
 */
class SentencePipeline {
  private readonly jobs: Job[] = [];
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  synthesized = 0;

  constructor(
    private readonly ttsProvider: LocalTTS,
    private readonly signal: AbortSignal,
  ) {}

  add(text: string): void {
    const audio = this.acquire().then(async () => {
      try {
        return await synthesizeText(text, this.ttsProvider.voice, {
          wordsPerMinute: this.ttsProvider.options.wordsPerMinute,
          signal: this.signal,
        });
      } finally {
        this.synthesized++;
        this.release();
      }
    });
    audio.catch(() => {}); // awaited (and rethrown) by next()
    this.jobs.push({ text, audio });
  }

  get pending(): number {
    return this.jobs.length;
  }

  /** The next sentence in order, once synthesized. */
  async next(): Promise<{ text: string; audio: Int16Array } | undefined> {
    const job = this.jobs.shift();
    if (!job) return undefined;
    return { text: job.text, audio: await job.audio };
  }

  private async acquire(): Promise<void> {
    if (this.running < this.ttsProvider.options.concurrency) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
  }

  private release(): void {
    this.running--;
    this.waiting.shift()?.();
  }
}

/** Cuts PCM into frames of the configured length (the last one may be shorter). */
function* framesOf(audio: Int16Array, sampleRate: number, frameMs: number): Generator<AudioFrame> {
  const n = Math.max(1, Math.round((sampleRate * frameMs) / 1000));
  for (let off = 0; off < audio.length; off += n) {
    const data = audio.slice(off, Math.min(audio.length, off + n));
    yield new AudioFrame(data, sampleRate, 1, data.length);
  }
}

export class LocalChunkedStream extends tts.ChunkedStream {
  label = 'local.ChunkedStream';
  readonly #tts: LocalTTS;
  #sentences: string[] = [];
  #pipeline: SentencePipeline | undefined;

  constructor(
    ttsProvider: LocalTTS,
    text: string,
    connOptions?: APIConnectOptions,
    abortSignal?: AbortSignal,
  ) {
    super(text, ttsProvider, connOptions, abortSignal);
    this.#tts = ttsProvider;
  }

  /** Sentences the text was split into. */
  get sentences(): readonly string[] {
    return this.#sentences;
  }

  /** How many sentences have been synthesized so far (for observing incremental output). */
  get sentencesSynthesized(): number {
    return this.#pipeline?.synthesized ?? 0;
  }

  protected run(): Promise<void> {
    return unlessAborted(this.abortSignal, () => this.#run());
  }

  async #run(): Promise<void> {
    const requestId = shortuuid();
    this.#sentences = splitSentences(this.inputText, this.#tts.options.maxSentenceChars);
    const pipeline = new SentencePipeline(this.#tts, this.abortSignal);
    this.#pipeline = pipeline;
    for (const s of this.#sentences) pipeline.add(s);
    const queue = this.queue; // the framework swaps this.queue per attempt
    let previous: AudioFrame | undefined;
    let delta: string | undefined;
    for (let item = await pipeline.next(); item; item = await pipeline.next()) {
      if (this.abortSignal.aborted) return;
      let first = true;
      for (const frame of framesOf(item.audio, this.#tts.sampleRate, this.#tts.options.frameMs)) {
        // Hold one frame back so the last one can be marked final.
        if (previous)
          queue.put({ requestId, segmentId: requestId, frame: previous, deltaText: delta, final: false });
        delta = first ? item.text : undefined;
        first = false;
        previous = frame;
      }
    }
    if (previous && !this.abortSignal.aborted) {
      queue.put({ requestId, segmentId: requestId, frame: previous, deltaText: delta, final: true });
    }
  }
}

export class LocalSynthesizeStream extends tts.SynthesizeStream {
  label = 'local.SynthesizeStream';
  readonly #tts: LocalTTS;

  constructor(ttsProvider: LocalTTS, connOptions?: APIConnectOptions) {
    super(ttsProvider, connOptions);
    this.#tts = ttsProvider;
  }

  protected run(): Promise<void> {
    return unlessAborted(this.abortSignal, () => this.#run());
  }

  async #run(): Promise<void> {
    const requestId = shortuuid();
    const splitter = new SentenceBuffer(this.#tts.options.maxSentenceChars);
    const pipeline = new SentencePipeline(this.#tts, this.abortSignal);
    // Each entry: a sentence of the current segment, or a segment boundary (flush).
    const order: Array<{ kind: 'sentence' | 'flush'; segmentId: string }> = [];
    let segmentId = shortuuid();
    let wake: (() => void) | undefined;
    let inputDone = false;
    const notify = () => {
      wake?.();
      wake = undefined;
    };

    const readInput = async () => {
      for await (const item of this.input) {
        if (this.abortSignal.aborted) break;
        if (item === tts.SynthesizeStream.FLUSH_SENTINEL) {
          for (const s of splitter.flush()) {
            this.markStarted();
            pipeline.add(s);
            order.push({ kind: 'sentence', segmentId });
          }
          order.push({ kind: 'flush', segmentId });
          segmentId = shortuuid();
        } else {
          for (const s of splitter.push(item as string)) {
            this.markStarted();
            pipeline.add(s);
            order.push({ kind: 'sentence', segmentId });
          }
        }
        notify();
      }
      for (const s of splitter.flush()) {
        this.markStarted();
        pipeline.add(s);
        order.push({ kind: 'sentence', segmentId });
      }
      order.push({ kind: 'flush', segmentId });
      inputDone = true;
      notify();
    };

    const emit = async () => {
      let previous: { frame: AudioFrame; delta: string | undefined; segmentId: string } | undefined;
      for (;;) {
        const next = order.shift();
        if (!next) {
          if (inputDone) break;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          continue;
        }
        if (this.abortSignal.aborted) return;
        if (next.kind === 'flush') {
          if (previous) {
            this.queue.put({
              requestId,
              segmentId: next.segmentId,
              frame: previous.frame,
              deltaText: previous.delta,
              final: true,
            });
            previous = undefined;
          }
          continue;
        }
        const item = await pipeline.next();
        if (!item || this.abortSignal.aborted) return;
        let first = true;
        for (const frame of framesOf(item.audio, this.#tts.sampleRate, this.#tts.options.frameMs)) {
          if (previous) {
            this.queue.put({
              requestId,
              segmentId: previous.segmentId,
              frame: previous.frame,
              deltaText: previous.delta,
              final: false,
            });
          }
          previous = { frame, delta: first ? item.text : undefined, segmentId: next.segmentId };
          first = false;
        }
      }
      if (!this.abortSignal.aborted) this.queue.put(tts.SynthesizeStream.END_OF_STREAM);
    };

    await Promise.all([readInput(), emit()]);
  }
}
