import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { NoiseFloor } from '../../audio/level.js';
import { Resampler } from '../../audio/resample.js';
import type { Expectation } from '../../contracts/expectation.js';
import { DEFAULT_ACOUSTIC_MODEL, DEFAULT_DICTIONARY, PronouncingDictionary } from './dictionary.js';
import type { CompiledLanguage, CompileOptions, DomainLanguage } from './domain-language.js';
import {
  assertSphinxAvailable,
  DEFAULT_CMN_INIT,
  expectationGrammar,
  featParamsWith,
  locateLibrary,
  prepareLanguage,
} from './sphinx-setup.js';
import { type DecoderFinal, type FromDecoder, startDecoderWorker } from './sphinx-worker.js';

/** The decoder's input rate. Everything is resampled to it. */
export const DECODER_SAMPLE_RATE = 16000;
/** 20 ms at 16 kHz: the unit of audio sent to the decoder. */
export const DECODER_CHUNK = 320;

export type SearchMode = 'ngram' | 'grammar';

export interface SphinxRecognizerOptions {
  /**
   * What callers are expected to say (supplied by the conversation engine). Strongly
   * recommended: without it the generic English LM is used, which is nearly useless here.
   */
  language?: DomainLanguage;
  /**
   * Search built from `language`: the domain 3-gram ('ngram', default — measured better and
   * more tolerant of phrasing) or the JSGF grammar ('grammar').
   */
  search?: SearchMode;
  /** How the grammar / LM is built from `language`. */
  compile?: CompileOptions;
  /** Acoustic model directory; default the Debian pocketsphinx-en-us model. */
  acousticModel?: string;
  /** Pronouncing dictionary; default the CMU dictionary shipped with the model. */
  dictionary?: string;
  /** RMS level of the noise floor added after resampling; null disables it. Default -54 dBFS. */
  noiseFloorDbfs?: number | null;
  /** Compute partial hypotheses every N ms of audio (default 100). */
  partialIntervalMs?: number;
  /**
   * Silence the decoder's voice-activity detector needs before it reports end of speech
   * (`-vad_postspeech`), ms. Default 400.
   */
  endSilenceMs?: number;
  /**
   * While the decoder has heard less than this much audio (ms), each utterance is decoded a
   * second time at its end, after the cepstral-mean estimate has adapted to the caller's
   * channel (default 10 000; 0 disables). Fixes the first utterances of a call.
   */
  redecodeUntilMs?: number;
  /**
   * Initial cepstral mean (13 values) the decoder normalizes with until it has adapted to the
   * caller. Default {@link DEFAULT_CMN_INIT}; null keeps the acoustic model's own.
   */
  cmnInit?: readonly number[] | null;
  /** Hypotheses returned per final transcript (n-best, best first). Default 5; 1 disables. */
  nbest?: number;
  /** Extra pocketsphinx arguments, e.g. { '-lw': '8' }. */
  decoderArgs?: Record<string, string>;
}

export interface RecognitionResult {
  text: string;
  /** Mean word posterior probability in [0, 1]. */
  confidence: number;
  /** Words with their posterior probabilities. */
  words: Array<{ word: string; confidence: number }>;
  /**
   * N-best hypotheses, best first (the first is `text`), each with a confidence: the best's
   * is `confidence`, the others' scaled by their path score relative to the best.
   */
  alternatives: Array<{ text: string; confidence: number }>;
  /** The search that decoded it: '' for the flow's language, else the expectation grammar's name. */
  search: string;
  /** Audio in this utterance, ms. */
  audioMs: number;
  /** Decoder time: all chunk processing, slowest chunk, and the end-of-utterance pass. */
  processMs: number;
  maxChunkMs: number;
  endMs: number;
}

export {
  assertSphinxAvailable,
  DEFAULT_CMN_INIT,
  expectationGrammar,
  type PreparedLanguage,
  prepareLanguage,
} from './sphinx-setup.js';

export interface SphinxRecognizerEvents {
  partial: [text: string];
  /** The decoder's voice-activity detector changed state. */
  speech: [inSpeech: boolean];
  error: [error: Error];
}

/**
 * Streaming speech recognizer on pocketsphinx, decoding in a worker thread.
 *
 * ```ts
 * const rec = await SphinxRecognizer.create({ language });
 * rec.on('partial', (text) => …);
 * rec.start();
 * rec.push(pcm, 8000);          // any rate, any chunk size; resampled to 16 kHz here
 * const { text } = await rec.end();
 * await rec.close();
 * ```
 *
 * Audio is resampled to 16 kHz, a -54 dBFS noise floor is added, and 20 ms chunks are
 * posted to the worker; `push` never blocks on decoding. End of utterance is the caller's
 * decision (`end()`), the decoder's voice-activity detector is reported through `speech`.
 */
export class SphinxRecognizer extends EventEmitter<SphinxRecognizerEvents> {
  readonly compiled: CompiledLanguage | undefined;
  readonly searchMode: SearchMode | 'generic';
  private readonly worker: Worker;
  private readonly noiseDbfs: number | null;
  private noise: NoiseFloor | undefined;
  private resampler: Resampler | undefined;
  private pending = new Int16Array(DECODER_CHUNK);
  private pendingLen = 0;
  private utt = 0;
  private active = false;
  private inSpeech = false;
  private readonly finals = new Map<number, (r: DecoderFinal) => void>();
  private readonly rejectors = new Map<number, (e: Error) => void>();
  private fatal: Error | undefined;
  private closing: Promise<void> | undefined;
  private exited = false;
  private readonly ready: Promise<number>;
  private searchCount = 0;
  private readonly dictionaryPath: string;
  private readonly compileOptions: CompileOptions;
  private words: Set<string>;
  /** Searches this decoder holds (besides its first), and the one `open` turns use. */
  private readonly searches = new Set<string>();
  private openSearch = '';

  private constructor(options: SphinxRecognizerOptions) {
    super();
    assertSphinxAvailable(options);
    const acousticModel = options.acousticModel ?? DEFAULT_ACOUSTIC_MODEL;
    this.dictionaryPath = options.dictionary ?? DEFAULT_DICTIONARY;
    this.compileOptions = options.compile ?? {};
    const lang = prepareLanguage(
      options.language,
      options.search ?? 'ngram',
      this.dictionaryPath,
      this.compileOptions,
    );
    this.compiled = lang.compiled;
    this.words = new Set(lang.compiled?.vocabulary ?? []);
    this.searchMode = lang.search.kind === 'jsgf' ? 'grammar' : lang.search.kind;
    this.noiseDbfs = options.noiseFloorDbfs === null ? null : (options.noiseFloorDbfs ?? -54);
    const args: Record<string, string> = {
      '-hmm': acousticModel,
      '-dict': lang.dictPath,
      '-samprate': String(DECODER_SAMPLE_RATE),
      '-logfn': '/dev/null',
      '-vad_postspeech': String(Math.max(5, Math.round((options.endSilenceMs ?? 400) / 10))),
      ...(options.cmnInit === null
        ? {}
        : { '-featparams': featParamsWith(acousticModel, options.cmnInit ?? DEFAULT_CMN_INIT) }),
      ...options.decoderArgs,
    };
    this.worker = startDecoderWorker({
      pocketsphinxLib: locateLibrary('libpocketsphinx.so.3'),
      sphinxbaseLib: locateLibrary('libsphinxbase.so.3'),
      args: Object.entries(args).flat(),
      search: lang.search,
      nbest: Math.max(1, options.nbest ?? 5),
      partialEvery: Math.max(1, Math.round((options.partialIntervalMs ?? 100) / 20)),
      redecodeUntilMs: options.redecodeUntilMs ?? 10_000,
    });
    this.worker.unref();
    let resolveReady!: (ms: number) => void;
    let rejectReady!: (e: Error) => void;
    this.ready = new Promise((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    this.ready.catch(() => {});
    this.worker.on('message', (msg: FromDecoder) => {
      switch (msg.type) {
        case 'ready':
          resolveReady(msg.initMs);
          break;
        case 'error': {
          const err = new LocalSpeechError(msg.message);
          if (msg.fatal) {
            this.fail(err);
            rejectReady(err);
          } else this.emitError(err);
          break;
        }
        case 'partial':
          if (msg.utt === this.utt && this.active) this.emit('partial', msg.text);
          break;
        case 'speech':
          if (msg.utt === this.utt && this.active && msg.inSpeech !== this.inSpeech) {
            this.inSpeech = msg.inSpeech;
            this.emit('speech', msg.inSpeech);
          }
          break;
        case 'final': {
          const resolve = this.finals.get(msg.utt);
          this.finals.delete(msg.utt);
          resolve?.(msg);
          break;
        }
        case 'search-set':
        case 'closed':
          break;
      }
    });
    this.worker.on('error', (err) => {
      this.fail(new LocalSpeechError(`decoder thread crashed: ${err.message}`));
      rejectReady(err);
    });
    this.worker.on('exit', () => {
      this.exited = true;
      this.fail(new LocalSpeechError('decoder thread exited'));
      rejectReady(new LocalSpeechError('decoder thread exited before it was ready'));
    });
  }

  /** Starts a recognizer and waits until its decoder is loaded (≈ 100–300 ms). */
  static async create(options: SphinxRecognizerOptions = {}): Promise<SphinxRecognizer> {
    const rec = new SphinxRecognizer(options);
    try {
      await rec.ready;
    } catch (err) {
      await rec.close();
      throw err;
    }
    return rec;
  }

  /** Out-of-dictionary words that were dropped from the domain language. */
  get oov(): CompiledLanguage['oov'] {
    return this.compiled?.oov ?? [];
  }

  get speaking(): boolean {
    return this.inSpeech;
  }

  /** Whether an utterance is open (start() called, end() not yet). */
  get inUtterance(): boolean {
    return this.active;
  }

  /** Opens an utterance. Audio pushed without start() opens one implicitly. */
  start(): void {
    this.assertUsable();
    if (this.active) return;
    this.utt++;
    this.active = true;
    this.inSpeech = false;
    this.pendingLen = 0;
    // Same noise for the same audio: an utterance decodes the same whatever came before it.
    this.noise = this.noiseDbfs === null ? undefined : new NoiseFloor(this.noiseDbfs);
    this.worker.postMessage({ type: 'start', utt: this.utt });
  }

  /** Queues audio (mono 16-bit PCM at `sampleRate`) for decoding. Never blocks on the decoder. */
  push(pcm: Int16Array, sampleRate: number): void {
    this.assertUsable();
    if (!this.active) this.start();
    if (!this.resampler || this.resampler.fromRate !== sampleRate) {
      this.resampler =
        sampleRate === DECODER_SAMPLE_RATE ? undefined : new Resampler(sampleRate, DECODER_SAMPLE_RATE);
    }
    this.enqueue(this.resampler ? this.resampler.process(pcm) : pcm);
  }

  /** Adds the noise floor and posts whole 20 ms chunks to the decoder. */
  private enqueue(at16k: Int16Array): void {
    const audio = this.noise ? this.noise.apply(at16k) : at16k;
    let off = 0;
    while (off < audio.length) {
      const n = Math.min(DECODER_CHUNK - this.pendingLen, audio.length - off);
      this.pending.set(audio.subarray(off, off + n), this.pendingLen);
      this.pendingLen += n;
      off += n;
      if (this.pendingLen === DECODER_CHUNK) {
        const chunk = this.pending;
        this.worker.postMessage({ type: 'audio', utt: this.utt, pcm: chunk }, [chunk.buffer]);
        this.pending = new Int16Array(DECODER_CHUNK);
        this.pendingLen = 0;
      }
    }
  }

  /** Closes the utterance: decodes what is queued and resolves with the final transcript. */
  async end(): Promise<RecognitionResult> {
    this.assertUsable();
    if (!this.active) this.start();
    if (this.resampler) {
      // Drain the resampler's look-ahead (a millisecond or two) and start afresh next time.
      const tail = this.resampler.flush();
      this.resampler = undefined;
      if (tail.length) this.enqueue(tail);
    }
    if (this.pendingLen > 0) {
      const chunk = this.pending.slice(0, this.pendingLen);
      this.worker.postMessage({ type: 'audio', utt: this.utt, pcm: chunk }, [chunk.buffer]);
      this.pendingLen = 0;
    }
    const utt = this.utt;
    const result = new Promise<DecoderFinal>((resolve, reject) => {
      this.finals.set(utt, resolve);
      this.rejectors.set(utt, reject);
    });
    this.worker.postMessage({ type: 'end', utt });
    this.active = false;
    this.inSpeech = false;
    const f = await result.finally(() => this.rejectors.delete(utt));
    return {
      text: f.text,
      confidence: f.confidence,
      words: f.words,
      alternatives: f.alternatives.map((a, i) => ({
        text: a.text,
        confidence: i === 0 ? f.confidence : f.confidence * a.relative,
      })),
      search: f.search,
      audioMs: f.audioMs,
      processMs: f.processMs,
      maxChunkMs: f.maxChunkMs,
      endMs: f.endMs,
    };
  }

  /**
   * Switches to another domain language from the next utterance on (for example when the
   * conversation moves to a state expecting dates). Words new to the decoder are added.
   */
  setLanguage(
    language: DomainLanguage,
    search: SearchMode = this.searchMode === 'grammar' ? 'grammar' : 'ngram',
  ): void {
    this.assertUsable();
    const lang = prepareLanguage(language, search, this.dictionaryPath, this.compileOptions);
    const dict = PronouncingDictionary.load(this.dictionaryPath);
    const words: Array<[string, string]> = [];
    for (const w of lang.compiled?.vocabulary ?? []) {
      if (this.words.has(w)) continue;
      this.words.add(w);
      const prons = dict.pronunciations(w);
      if (prons[0]) words.push([w, prons[0]]);
    }
    if (this.active) {
      this.active = false;
      this.inSpeech = false;
    }
    (this as { compiled: CompiledLanguage | undefined }).compiled = lang.compiled;
    this.openSearch = `domain${++this.searchCount}`;
    this.worker.postMessage({ type: 'search', name: this.openSearch, search: lang.search, words });
  }

  /**
   * Restricts the next utterances to what `expectation` allows (digits, a date/time grammar,
   * yes/no/correction, a menu, names, spelling; its intent phrases always), switching the
   * decoder's search without reloading models: each grammar is built once and kept in the
   * decoder under its name. `open` (or undefined) goes back to the flow's language. Call it
   * between utterances; an open utterance is closed first. Returns the search name.
   */
  expect(expectation: Expectation | undefined): string {
    this.assertUsable();
    if (this.active) {
      this.active = false;
      this.inSpeech = false;
    }
    if (!expectation || expectation.kind === 'open') {
      this.worker.postMessage({ type: 'search', name: this.openSearch, words: [] });
      return this.openSearch;
    }
    const grammar = expectationGrammar(expectation, this.dictionaryPath);
    const dict = PronouncingDictionary.load(this.dictionaryPath);
    const words: Array<[string, string]> = [];
    for (const w of grammar.words) {
      if (this.words.has(w)) continue;
      this.words.add(w);
      dict.pronunciations(w).forEach((p, i) => {
        words.push([i === 0 ? w : `${w}(${i + 1})`, p]);
      });
    }
    const fresh = !this.searches.has(grammar.name);
    this.searches.add(grammar.name);
    this.worker.postMessage({
      type: 'search',
      name: grammar.name,
      ...(fresh ? { search: { kind: 'jsgf' as const, text: grammar.jsgf } } : {}),
      words,
    });
    return grammar.name;
  }

  async close(): Promise<void> {
    if (this.closing) return this.closing;
    this.active = false;
    this.closing = (async () => {
      if (!this.exited && !this.fatal) {
        const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
        this.worker.postMessage({ type: 'close' });
        const timer = setTimeout(() => void this.worker.terminate(), 2000);
        await exited;
        clearTimeout(timer);
      } else if (!this.exited) {
        await this.worker.terminate();
      }
    })();
    return this.closing;
  }

  private assertUsable(): void {
    if (this.closing) throw new LocalSpeechError('recognizer is closed');
    if (this.fatal) throw this.fatal;
  }

  private fail(err: Error): void {
    if (this.closing) {
      // Expected exit after close(): settle what is still waiting, nothing more.
      for (const reject of this.rejectors.values()) reject(new LocalSpeechError('recognizer closed'));
      this.rejectors.clear();
      return;
    }
    if (this.fatal) return;
    this.fatal = err;
    for (const reject of this.rejectors.values()) reject(err);
    this.rejectors.clear();
    this.emitError(err);
  }

  private emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

export class LocalSpeechError extends Error {
  constructor(message: string) {
    super(`pocketsphinx: ${message}`);
    this.name = 'LocalSpeechError';
  }
}
