import type { IsoDate } from '../clock.js';
import type { Utterance } from './normalize.js';

export type ExtractionMethod = 'regex' | 'nlp' | 'llm' | 'dtmf';

/** What an extractor knows besides the words: the call's clock and what is already known. */
export interface ExtractContext {
  now: Date;
  timeZone: string;
  /** `now` as a calendar day in `timeZone`. */
  today: IsoDate;
  /**
   * True when the current state asked for this slot: bare answers ("john smith", "three")
   * count then. Unprompted extraction (out-of-order slots, corrections) needs a cue
   * ("my name is", "at three") so that other answers are not misread.
   */
  asked: boolean;
  slots: Readonly<Record<string, unknown>>;
  /** The flow's scratch data (offered alternatives and the like). */
  data: Readonly<Record<string, unknown>>;
  /** The caller's own number when telephony knows it ("use this number"). */
  callerNumber?: string;
  /** The recognizer's confidence in these words (0..1), when it gave one: answers that keep it. */
  sttConfidence?: number;
}

export interface Extraction<T> {
  value: T;
  /** 0..1, before STT confidence is folded in. */
  confidence: number;
  method: ExtractionMethod;
}

export type Extractor<T> = (u: Utterance, ctx: ExtractContext) => Extraction<T> | null;

export const found = <T>(value: T, confidence: number, method: ExtractionMethod): Extraction<T> => ({
  value,
  confidence,
  method,
});
