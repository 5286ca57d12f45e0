import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Expectation } from '../../contracts/expectation.js';
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
import { buildExpectationGrammar, type ExpectationGrammar } from './expectation-grammar.js';
import type { SearchMode, SphinxRecognizerOptions } from './recognizer.js';
import type { SearchSpec } from './sphinx-worker.js';

/**
 * What a decoder needs on disk and where the native pieces are: compiled domain languages and
 * expectation grammars (cached per process and, for files, by content hash), the start value
 * of cepstral mean normalisation, the pocketsphinx libraries.
 */

export interface PreparedLanguage {
  compiled: CompiledLanguage | undefined;
  dictPath: string;
  search: SearchSpec;
}

const prepared = new Map<string, PreparedLanguage>();
const grammars = new Map<string, ExpectationGrammar>();

/** The grammar for an expectation, built once per process for the same expectation. */
export function expectationGrammar(
  expectation: Expectation,
  dictionaryPath = DEFAULT_DICTIONARY,
): ExpectationGrammar {
  const key = `${dictionaryPath}\u0000${JSON.stringify(expectation)}`;
  let g = grammars.get(key);
  if (!g) {
    g = buildExpectationGrammar(expectation, PronouncingDictionary.load(dictionaryPath));
    if (grammars.size > 500) grammars.clear();
    grammars.set(key, g);
  }
  return g;
}

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
export function featParamsWith(acousticModel: string, cmnInit: readonly number[]): string {
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

export function locateLibrary(name: string): string {
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
