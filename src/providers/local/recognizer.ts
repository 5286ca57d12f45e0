import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { NoiseFloor } from '../../audio/level.js';
import { Resampler } from '../../audio/resample.js';
import {
  DEFAULT_ACOUSTIC_MODEL,
  DEFAULT_DICTIONARY,
  DEFAULT_GENERIC_LM,
  LocalSpeechUnavailableError,
  PronouncingDictionary,
} from './dictionary.js';
import {
  type CompiledLanguage,
  type CompileOptions,
  compileDomainLanguage,
  type DomainLanguage,
} from './domain-language.js';
import { type DecoderFinal, type FromDecoder, type SearchSpec, startDecoderWorker } from './sphinx-worker.js';

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
  /** Extra pocketsphinx arguments, e.g. { '-lw': '8' }. */
  decoderArgs?: Record<string, string>;
}

export interface RecognitionResult {
  text: string;
  /** Mean word posterior probability in [0, 1]. */
  confidence: number;
  /** Words with their posterior probabilities. */
  words: Array<{ word: string; confidence: number }>;
  /** Audio in this utterance, ms. */
  audioMs: number;
  /** Decoder time: all chunk processing, slowest chunk, and the end-of-utterance pass. */
  processMs: number;
  maxChunkMs: number;
  endMs: number;
}

export interface SphinxRecognizerEvents {
  partial: [text: string];
  /** The decoder's voice-activity detector changed state. */
  speech: [inSpeech: boolean];
  error: [error: Error];
}

export interface PreparedLanguage {
  compiled: CompiledLanguage | undefined;
  dictPath: string;
  search: SearchSpec;
}

const prepared = new Map<string, PreparedLanguage>();

/**
 * Starting cepstral mean for our input chain (resampled to 16 kHz, -54 dBFS noise floor): the
 * value the decoder's live CMN converged to over the fixture utterances, averaged over 16 kHz
 * and 8 kHz μ-law input. The model's own (41.00,-5.29,-0.12,5.09,…) is far from it — the
 * first update jumps c0 from 41 to ~56 — which is why the first utterance of a fresh decoder
 * was misheard (8 kHz WER 19.7 % without re-decoding, 13.8 % with this start value).
 */
export const DEFAULT_CMN_INIT: readonly number[] = [
  55.88, 3.85, 1.03, 19.04, -1.27, -3.71, 5.18, -4.79, -0.67, 0.08, 0.22, 4.23, -0.72,
];

/**
 * pocketsphinx takes -cmninit from the model's feat.params over the command line, so a custom
 * start value means a copy of feat.params with that line replaced.
 */
function featParamsWith(acousticModel: string, cmnInit: readonly number[]): string {
  if (cmnInit.length !== 13 || cmnInit.some((v) => !Number.isFinite(v))) {
    throw new RangeError(`cmnInit needs 13 finite numbers, got ${cmnInit.length}`);
  }
  const original = readFileSync(join(acousticModel, 'feat.params'), 'utf8');
  const line = `-cmninit ${cmnInit.map((v) => v.toFixed(2)).join(',')}`;
  const text = /^-cmninit .*$/m.test(original)
    ? original.replace(/^-cmninit .*$/m, line)
    : `${original.trimEnd()}\n${line}\n`;
  const path = join(
    cacheDir(),
    `feat-${createHash('sha256').update(acousticModel).update(text).digest('hex').slice(0, 16)}.params`,
  );
  writeOnce(path, text);
  return path;
}

function cacheDir(): string {
  const dir = join(tmpdir(), `voice-agent-sphinx-${process.getuid?.() ?? 'u'}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function writeOnce(path: string, content: string): void {
  if (existsSync(path)) return;
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

/**
 * Compiles a domain language and writes its dictionary, LM and grammar to a content-addressed
 * cache directory (shared by every recognizer using the same language).
 */
export function prepareLanguage(
  language: DomainLanguage | undefined,
  search: SearchMode = 'ngram',
  dictionaryPath = DEFAULT_DICTIONARY,
  compileOptions: CompileOptions = {},
): PreparedLanguage {
  if (!language) {
    if (!existsSync(DEFAULT_GENERIC_LM))
      throw new LocalSpeechUnavailableError(`Generic LM ${DEFAULT_GENERIC_LM} not found`);
    return {
      compiled: undefined,
      dictPath: dictionaryPath,
      search: { kind: 'generic', path: DEFAULT_GENERIC_LM },
    };
  }
  const key = `${search}\u0000${dictionaryPath}\u0000${JSON.stringify(compileOptions)}\u0000${JSON.stringify(language)}`;
  const hit = prepared.get(key);
  if (hit) return hit;
  const dict = PronouncingDictionary.load(dictionaryPath);
  const compiled = compileDomainLanguage(language, dict, compileOptions);
  const dir = cacheDir();
  const dictPath = join(dir, `${compiled.hash}.dict`);
  writeOnce(dictPath, compiled.dictionary);
  let spec: SearchSpec;
  if (search === 'grammar') {
    const path = join(dir, `${compiled.hash}.gram`);
    writeOnce(path, compiled.jsgf);
    spec = { kind: 'grammar', path };
  } else {
    const path = join(dir, `${compiled.hash}.arpa`);
    writeOnce(path, compiled.arpa);
    spec = { kind: 'ngram', path };
  }
  const result = { compiled, dictPath, search: spec };
  prepared.set(key, result);
  return result;
}

function locateLibrary(name: string): string {
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib',
    '/usr/local/lib',
  ];
  for (const dir of dirs) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return name; // not found in the usual places: leave it to the dynamic loader
}

/**
 * Throws LocalSpeechUnavailableError (with the setup hint) unless the pocketsphinx library, the
 * acoustic model and the dictionary are installed. Cheap: file-existence checks only.
 */
export function assertSphinxAvailable(
  options: Pick<SphinxRecognizerOptions, 'acousticModel' | 'dictionary'> = {},
): void {
  const model = options.acousticModel ?? DEFAULT_ACOUSTIC_MODEL;
  if (!existsSync(join(model, 'mdef')))
    throw new LocalSpeechUnavailableError(`Acoustic model ${model} not found`);
  const dict = options.dictionary ?? DEFAULT_DICTIONARY;
  if (!existsSync(dict)) throw new LocalSpeechUnavailableError(`Pronouncing dictionary ${dict} not found`);
  for (const lib of ['libpocketsphinx.so.3', 'libsphinxbase.so.3']) {
    if (locateLibrary(lib) === lib) throw new LocalSpeechUnavailableError(`${lib} not found`);
  }
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
    this.searchMode = lang.search.kind;
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
    this.worker.postMessage({
      type: 'search',
      name: `domain${++this.searchCount}`,
      search: lang.search,
      words,
    });
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
