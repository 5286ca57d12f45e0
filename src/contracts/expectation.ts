/**
 * What the conversation is waiting for right now, as the engine tells the rest of the
 * real-time path: the offline recognizer picks its search from it (digits-only, a date/time
 * grammar, yes/no/correction, a menu, names, spelling, or the flow's open n-gram) and the
 * pipeline's end-of-turn logic ends a turn early once a partial transcript already completes
 * it. The engine computes it after every reply; nothing here names a flow's domain.
 */

/** The shape of answer the current state expects. */
export type ExpectationKind =
  /** A string of digits (phone number, code, account number, PIN said aloud). */
  | 'digits'
  /** A calendar date ("next Friday", "the twelfth"). */
  | 'date'
  /** A clock time ("three thirty", "eleven a m"). */
  | 'time'
  /** A date, a time, or both. */
  | 'datetime'
  /** Yes / no, or a correction of a slot being read back. */
  | 'confirm'
  /** One of a few listed options (spoken words or keypad digits). */
  | 'choice'
  /** A person's name. */
  | 'name'
  /** Letters spelled one at a time ("s as in sam"). */
  | 'spelling'
  /** Free speech: the flow's open vocabulary. */
  | 'open';

export interface Expectation {
  kind: ExpectationKind;
  /** The flow state asking; recognizers may cache a search per (flow, state). */
  state: string;
  /** Slots the state is collecting or reading back. */
  slots: readonly string[];
  /** For `digits`: how many digits make a whole answer (a range when it varies). */
  digits?: { min: number; max: number };
  /** For `choice`: the words that name each option (lowercase). */
  options?: readonly string[];
  /**
   * Phrases the flow expects at this state (lowercase words, no digits), beyond what the kind
   * implies; names the flow knows, option synonyms.
   */
  phrases?: readonly string[];
  /** Intents hearable in every state (a person, cancel, repeat, and the flow's own). */
  intentPhrases: readonly string[];
}

/**
 * Optional port method: does this partial transcript already complete the expectation? The
 * pipeline asks it on every interim transcript; it must be cheap and side-effect free.
 */
export type CompletesTurn = (partialTranscript: string) => boolean;
