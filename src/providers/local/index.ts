/**
 * Fully offline speech providers: recognition on pocketsphinx (restricted to the flow's domain
 * language), synthesis on flite / espeak-ng. See ARCHITECTURE.md, "Offline speech".
 */
export {
  DEFAULT_ACOUSTIC_MODEL,
  DEFAULT_DICTIONARY,
  LocalSpeechUnavailableError,
  PronouncingDictionary,
} from './dictionary.js';
export {
  buildArpa,
  type CompiledLanguage,
  type CompileOptions,
  compileDomainLanguage,
  type DomainLanguage,
  type OutOfVocabulary,
} from './domain-language.js';
export { buildExpectationGrammar, type ExpectationGrammar } from './expectation-grammar.js';
export { COMMON_FIRST_NAMES, COMMON_LAST_NAMES, isLikelyName, type NameCheckOptions } from './names.js';
export { normalizeSentence, normalizeText, numberToWords, ordinalToWords } from './normalize.js';
export {
  assertSphinxAvailable,
  LocalSpeechError,
  prepareLanguage,
  type RecognitionResult,
  type SearchMode,
  SphinxRecognizer,
  type SphinxRecognizerOptions,
} from './recognizer.js';
export { LocalSpeechStream, LocalSTT, type LocalSTTOptions } from './stt.js';
export * from './synth.js';
export { LocalChunkedStream, LocalSynthesizeStream, LocalTTS, type LocalTTSOptions } from './tts.js';
export { pooledWer, type WordErrors, wordErrors } from './wer.js';
