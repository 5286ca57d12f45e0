import {
  type APIConnectOptions,
  type AudioBuffer,
  asLanguageCode,
  type LanguageCode,
  mergeFrames,
  shortuuid,
  stt,
} from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import { downmixToMono } from '../../audio/pcm.js';
import type { Expectation } from '../../contracts/expectation.js';
import type { DomainLanguage } from './domain-language.js';
import {
  assertSphinxAvailable,
  prepareLanguage,
  type RecognitionResult,
  SphinxRecognizer,
  type SphinxRecognizerOptions,
} from './recognizer.js';

export interface LocalSTTOptions extends SphinxRecognizerOptions {
  /** Language tag put on transcripts; default 'en-US'. */
  languageCode?: string;
  /**
   * When a final transcript is produced:
   * - 'vad' (default): when the decoder's own voice-activity detector has heard `endSilenceMs`
   *   of silence after speech — the LiveKit framework never flushes a streaming STT at the end
   *   of speech, so the stream must endpoint itself — and on flush() / endInput();
   * - 'manual': only on flush() / endInput().
   */
  endpointing?: 'vad' | 'manual';
  /**
   * Switch to the grammar search the conversation's expectation names (digits, dates, times,
   * confirmations) before each answer. Off by default (LOCAL_STT_PER_STATE): on the ten
   * booking scripts at audio level the switch sometimes lands one turn late and a phone number
   * is decoded with the time grammar; until that is fixed the flow's language model hears every turn.
   */
  perStateSearch?: boolean;
}

/**
 * Offline streaming speech-to-text for `@livekit/agents` on pocketsphinx, restricted to the
 * flow's domain language.
 *
 * ```ts
 * const sttProvider = new LocalSTT({ language: flow.language });   // DomainLanguage
 * new voice.AgentSession({ stt: sttProvider, vad, … });
 * sttProvider.setLanguage(otherLanguage);   // e.g. on a state change; applies at the next utterance
 * ```
 *
 * Each stream owns one decoder thread. Interim transcripts arrive every ~100 ms while the
 * caller speaks; the final transcript comes ~`endSilenceMs` after they stop (or at once on
 * flush()). START_OF_SPEECH / END_OF_SPEECH are emitted too, so `turnDetection: 'stt'` works.
 */
/**
 * Answers a grammar can hold whole: digits, dates, times and confirmations (with their
 * corrections). Names, menus and spelling stay on the flow's open language model for now: a
 * grammar maps anything said to its nearest phrase, so a caller answering the greeting in
 * words the menu does not list ("I'd like to book…") was heard as another option, and there is
 * no fallback yet from an out-of-grammar answer (bench:recognition, docs/BENCHMARKS.md).
 */
const GRAMMAR_KINDS = new Set<Expectation['kind']>(['digits', 'date', 'time', 'datetime', 'confirm']);

function grammarWorthy(expectation: Expectation | undefined): expectation is Expectation {
  return expectation !== undefined && GRAMMAR_KINDS.has(expectation.kind);
}

export class LocalSTT extends stt.STT {
  label = 'local.STT';
  #options: LocalSTTOptions;
  #spare: Promise<SphinxRecognizer> | undefined;
  #expectation: Expectation | undefined;
  /** The last finals' n-best lists by transcript text (the engine only receives the text). */
  readonly #recentAlternatives = new Map<string, Array<{ text: string; confidence: number }>>();
  readonly #streams = new Set<LocalSpeechStream>();

  constructor(options: LocalSTTOptions = {}) {
    super({ streaming: true, interimResults: true, alignedTranscript: false });
    assertSphinxAvailable(options);
    this.#options = { ...options };
    this.#prepare();
  }

  /**
   * Compiles the domain language now (dictionary load ≈ 200 ms once per process, compile
   * ≈ 40 ms) rather than on the event loop when the first call's audio arrives; also surfaces
   * mistakes in the language (an undeclared slot) at construction.
   */
  #prepare(): void {
    if (!this.#options.language) return;
    prepareLanguage(
      this.#options.language,
      this.#options.search,
      this.#options.dictionary,
      this.#options.compile,
    );
  }

  override get model(): string {
    return `pocketsphinx en-us (${this.#options.language ? `domain ${this.#options.search ?? 'ngram'}` : 'generic lm'})`;
  }

  override get provider(): string {
    return 'pocketsphinx';
  }

  get language(): DomainLanguage | undefined {
    return this.#options.language;
  }

  /**
   * Changes the domain language: new streams use it, open streams switch at their next
   * utterance boundary.
   */
  setLanguage(language: DomainLanguage): void {
    this.#options.language = language;
    this.#prepare();
    this.#spare?.then((r) => r.close()).catch(() => {});
    this.#spare = undefined;
    for (const s of this.#streams) s.setLanguage(language);
  }

  /**
   * What the conversation waits for next (the engine's Expectation after each reply): open
   * streams switch their decoder's search before the caller's next words — at once when no
   * speech is in progress, else when the current utterance ends — and new streams start with
   * it. `undefined` or kind `open` returns to the flow's language.
   */
  expect(expectation: Expectation | undefined): void {
    const search = this.#options.perStateSearch && grammarWorthy(expectation) ? expectation : undefined;
    this.#expectation = search;
    for (const s of this.#streams) s.expect(search);
  }

  get expectation(): Expectation | undefined {
    return this.#expectation;
  }

  /** The n-best list of a recent final transcript with this text (best first), if any. */
  alternativesFor(text: string): Array<{ text: string; confidence: number }> | undefined {
    return this.#recentAlternatives.get(text.trim());
  }

  /** @internal streams record each final's n-best here. */
  rememberAlternatives(alternatives: readonly stt.SpeechData[]): void {
    const best = alternatives[0]?.text.trim();
    if (!best) return;
    this.#recentAlternatives.delete(best);
    this.#recentAlternatives.set(
      best,
      alternatives.map((a) => ({ text: a.text, confidence: a.confidence })),
    );
    for (const key of this.#recentAlternatives.keys()) {
      if (this.#recentAlternatives.size <= 16) break;
      this.#recentAlternatives.delete(key);
    }
  }

  /** Loads a decoder ahead of the next stream() so its first words are not delayed by model loading. */
  prewarm(): void {
    if (this.#spare) return;
    this.#spare = SphinxRecognizer.create(this.#options);
    this.#spare.catch(() => {});
  }

  #takeRecognizer(): Promise<SphinxRecognizer> {
    const spare = this.#spare;
    this.#spare = undefined;
    return spare ?? SphinxRecognizer.create(this.#options);
  }

  protected async _recognize(buffer: AudioBuffer): Promise<stt.SpeechEvent> {
    const frame = mergeFrames(buffer);
    const rec = await this.#takeRecognizer();
    try {
      if (this.#expectation) rec.expect(this.#expectation);
      rec.start();
      rec.push(downmixToMono(frame.data, frame.channels), frame.sampleRate);
      const r = await rec.end();
      const duration = frame.samplesPerChannel / frame.sampleRate;
      return {
        type: stt.SpeechEventType.FINAL_TRANSCRIPT,
        requestId: shortuuid(),
        alternatives: speechAlternatives(r, this.#languageCode(), 0, duration),
      };
    } finally {
      await rec.close();
    }
  }

  stream(options?: { connOptions?: APIConnectOptions }): LocalSpeechStream {
    const s = new LocalSpeechStream(this, this.#takeRecognizer(), this.#options, options?.connOptions);
    if (this.#expectation) s.expect(this.#expectation);
    this.#streams.add(s);
    s.onDone(() => this.#streams.delete(s));
    return s;
  }

  #languageCode(): LanguageCode {
    return asLanguageCode(this.#options.languageCode ?? 'en-US');
  }

  override async close(): Promise<void> {
    const spare = this.#spare;
    this.#spare = undefined;
    await spare?.then((r) => r.close()).catch(() => {});
    for (const s of this.#streams) s.close();
  }
}

/**
 * The final transcript and the decoder's other hypotheses (n-best, best first), so the engine
 * can take the best one that parses for the state. The first carries the word posteriors and
 * which search heard it ('' = the flow's language, else the expectation grammar's name).
 */
function speechAlternatives(
  r: RecognitionResult,
  language: LanguageCode,
  startTime: number,
  endTime: number,
): [stt.SpeechData, ...stt.SpeechData[]] {
  const best: stt.SpeechData = {
    language,
    text: r.text,
    startTime,
    endTime,
    confidence: r.confidence,
    metadata: { words: r.words, decodeMs: r.processMs + r.endMs, search: r.search },
  };
  const others = r.alternatives
    .slice(1)
    .map((a) => ({ language, text: a.text, startTime, endTime, confidence: a.confidence }));
  return [best, ...others];
}

export class LocalSpeechStream extends stt.SpeechStream {
  label = 'local.SpeechStream';
  readonly #recognizer: Promise<SphinxRecognizer>;
  readonly #provider: LocalSTT;
  readonly #endpointing: 'vad' | 'manual';
  readonly #endSilence: number;
  readonly #language: LanguageCode;
  #pendingLanguage: DomainLanguage | undefined;
  /** null: nothing pending; undefined inside: back to the flow's language. */
  #pendingExpectation: { value: Expectation | undefined } | null = null;
  #doneCallbacks: Array<() => void> = [];
  #done = false;

  constructor(
    sttProvider: LocalSTT,
    recognizer: Promise<SphinxRecognizer>,
    options: LocalSTTOptions,
    connOptions?: APIConnectOptions,
  ) {
    // No sample rate: frames arrive at their native rate and the recognizer resamples them.
    super(sttProvider, undefined, connOptions);
    this.#provider = sttProvider;
    this.#recognizer = recognizer;
    this.#recognizer.catch(() => {});
    this.#endpointing = options.endpointing ?? 'vad';
    this.#endSilence = (options.endSilenceMs ?? 400) / 1000;
    this.#language = asLanguageCode(options.languageCode ?? 'en-US');
  }

  /** @internal */
  onDone(cb: () => void): void {
    if (this.#done) cb();
    else this.#doneCallbacks.push(cb);
  }

  /** Switches the domain language at the next utterance boundary. */
  setLanguage(language: DomainLanguage): void {
    this.#pendingLanguage = language;
  }

  /** Switches search before the caller's next words (see LocalSTT.expect). */
  expect(expectation: Expectation | undefined): void {
    this.#pendingExpectation = { value: expectation };
  }

  protected async run(): Promise<void> {
    let rec: SphinxRecognizer;
    try {
      rec = await this.#recognizer;
    } catch (err) {
      this.#finish();
      throw err;
    }
    let requestId = shortuuid();
    let speaking = false;
    let position = 0; // seconds of audio received
    let uttStart = 0;
    let chain: Promise<void> = Promise.resolve();
    const put = (ev: stt.SpeechEvent) => {
      if (!this.queue.closed) this.queue.put(ev);
    };
    const startSpeech = () => {
      if (speaking) return;
      speaking = true;
      put({ type: stt.SpeechEventType.START_OF_SPEECH, requestId });
    };
    const finalize = (trigger: 'vad' | 'flush'): Promise<void> => {
      if (!rec.inUtterance) return chain;
      const result = rec.end();
      if (this.#pendingLanguage) {
        rec.setLanguage(this.#pendingLanguage);
        this.#pendingLanguage = undefined;
      }
      applyExpectation();
      const id = requestId;
      const wasSpeaking = speaking;
      const start = uttStart + this.startTimeOffset;
      const end = Math.max(
        start,
        position - (trigger === 'vad' ? this.#endSilence : 0) + this.startTimeOffset,
      );
      requestId = shortuuid();
      speaking = false;
      uttStart = position;
      chain = chain.then(async () => {
        const r = await result;
        if (r.text) {
          if (!wasSpeaking) put({ type: stt.SpeechEventType.START_OF_SPEECH, requestId: id });
          const alternatives = speechAlternatives(r, this.#language, start, end);
          this.#provider.rememberAlternatives(alternatives);
          put({ type: stt.SpeechEventType.FINAL_TRANSCRIPT, requestId: id, alternatives });
        }
        if (wasSpeaking || r.text) put({ type: stt.SpeechEventType.END_OF_SPEECH, requestId: id });
        put({
          type: stt.SpeechEventType.RECOGNITION_USAGE,
          requestId: id,
          recognitionUsage: { audioDuration: r.audioMs / 1000 },
        });
      });
      // A decoder failure surfaces from `await chain` at the end of run(); don't let it count
      // as unhandled in the meantime.
      chain.catch(() => {});
      return chain;
    };
    const applyExpectation = () => {
      const pending = this.#pendingExpectation;
      if (!pending) return;
      this.#pendingExpectation = null;
      rec.expect(pending.value);
    };
    const onPartial = (text: string) => {
      startSpeech();
      put({
        type: stt.SpeechEventType.INTERIM_TRANSCRIPT,
        requestId,
        alternatives: [
          {
            language: this.#language,
            text,
            startTime: uttStart + this.startTimeOffset,
            endTime: position + this.startTimeOffset,
            confidence: 0,
          },
        ],
      });
    };
    const onSpeech = (inSpeech: boolean) => {
      if (inSpeech) startSpeech();
      else if (this.#endpointing === 'vad') void finalize('vad');
    };
    rec.on('partial', onPartial);
    rec.on('speech', onSpeech);
    try {
      for await (const item of this.input) {
        if (this.abortSignal.aborted) break;
        if (item === stt.SpeechStream.FLUSH_SENTINEL) {
          void finalize('flush');
          continue;
        }
        const frame = item as AudioFrame;
        if (frame.samplesPerChannel === 0) continue;
        // No speech yet in this utterance: switching now drops only silence.
        if (this.#pendingExpectation && !speaking && !rec.speaking) {
          applyExpectation();
          uttStart = position;
        }
        if (!rec.inUtterance) uttStart = position;
        rec.push(downmixToMono(frame.data, frame.channels), frame.sampleRate);
        position += frame.samplesPerChannel / frame.sampleRate;
      }
      if (!this.abortSignal.aborted) await finalize('flush');
      await chain;
    } finally {
      rec.off('partial', onPartial);
      rec.off('speech', onSpeech);
      await rec.close();
      this.#finish();
    }
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    for (const cb of this.#doneCallbacks) cb();
    this.#doneCallbacks = [];
  }
}
