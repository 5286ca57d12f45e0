export { choiceExtractor, integerExtractor, offeredChoiceExtractor, ratingExtractor } from './choice.js';
export { CODE_ALPHABET, CODE_LENGTH, codeExtractor, codeSamples, generateCode } from './code.js';
export {
  dateExtractor,
  extractDate,
  extractSpokenTime,
  resolveMeridiem,
  type SpokenTime,
  timeExtractor,
} from './datetime.js';
export { detectIntents, INTENTS, type Intent, yesNo } from './intents.js';
export { nameExtractor, nameExtractorFor, titleCase } from './name.js';
export { COMMON_FIRST_NAMES, COMMON_LAST_NAMES } from './names-data.js';
export { cleanText, spokenClock, type Utterance, utterance, wordsToDigits } from './normalize.js';
export { digitRuns, isValidPhone, phoneExtractor, toE164 } from './phone.js';
export {
  type ExtractContext,
  type Extraction,
  type ExtractionMethod,
  type Extractor,
  found,
} from './types.js';
