import type { Utterance } from './normalize.js';

/**
 * Yes/no and the intents every state understands. Negations are matched first and removed, so
 * "that's not right" is a no even though it contains "right".
 */

const NEGATIVE =
  /\b(no|nope|nah|negative|incorrect|wrong|isn't|(?:that's |that is |it's |it is )?not(?: (?:really|quite|right|correct|that|it|okay|ok|good|fine))?)\b/g;
const UNSURE = /\b(not sure|don't know|do not know|no idea|maybe|perhaps)\b/;
const POSITIVE =
  /\b(yes|yeah|yea|yep|yup|ya|sure|correct|right|exactly|absolutely|definitely|affirmative|ok|okay|perfect|great|fine|good|sounds good|that's it|that works|works for me|go ahead|please do|uh huh|mhm|of course|confirm|confirmed|book it|do it|i do|yes please)\b/;

export function yesNo(u: Utterance): { value: boolean; confidence: number } | null {
  const text = u.text.replace(UNSURE, ' ');
  if (!text.trim()) return null;
  const negative = text.match(NEGATIVE);
  const rest = text.replace(NEGATIVE, ' ');
  const positive = POSITIVE.test(rest);
  if (negative && !positive) return { value: false, confidence: text.split(' ').length <= 3 ? 0.95 : 0.85 };
  if (positive && !negative) return { value: true, confidence: text.split(' ').length <= 3 ? 0.95 : 0.85 };
  return null;
}

/** The built-in intents every flow has. */
export type BuiltInIntent = 'human' | 'cancel' | 'repeat';
/** A built-in intent, or one a flow declares (FlowSpec.customIntents, e.g. `stop_calling`). */
export type Intent = BuiltInIntent | (string & {});
export const INTENTS: readonly BuiltInIntent[] = ['human', 'cancel', 'repeat'];

/** A flow's own intent: the caller's words that mean it, and phrases for the recognizer. */
export interface CustomIntent {
  /** Tried on the normalized words (lower case, no punctuation). */
  patterns: readonly RegExp[];
  /** What callers say for it (the offline recognizer's language needs the words). */
  phrases: readonly string[];
  /** For the LLM's intent tool. */
  description?: string;
}

/** What callers say for the built-in intents, for recognizers that need the words up front. */
export const INTENT_PHRASES: readonly string[] = [
  'operator',
  'representative',
  'a real person',
  'talk to someone',
  'speak to a person',
  'never mind',
  'cancel',
  'stop',
  'goodbye',
  'repeat that',
  'say that again',
  'pardon',
];

const HUMAN_ALWAYS =
  /\b(operator|representative|receptionist|human|real person|live person|front desk|customer service)\b/;
// "talk to someone", "put me through to a person"; not "get in to see the doctor" (a visit).
const HUMAN_WITH_VERB =
  /\b(speak|talk|connect|transfer|put me through)\b.*\b(agent|person|someone|somebody|staff|manager|people|team|office)\b/;
const HUMAN_ALONE = /^(?:an? )?agent(?: please)?$/;
const CANCEL =
  /\b(never ?mind|forget (?:it|about it|that)|stop|quit|cancel (?:that|this|it|everything|the \w+)|don't want (?:it|to \w+|an? \w+|anything)|hang up|goodbye|bye)\b|^cancel$/;
const REPEAT =
  /\b(repeat|say (?:that|it) again|come again|pardon|what did you say|didn't (?:catch|hear|get) (?:that|it|you)|one more time|say again)\b|^(?:sorry |pardon |excuse me )?(?:what|huh|sorry|excuse me|what was that)$/;

/**
 * Intents found in the utterance, most urgent first: the flow's own (declared order), then
 * human, cancel, repeat. A flow's intent outranks the built-ins its words also contain
 * ("stop calling me" is the flow's stop_calling, not a cancel).
 */
export function detectIntents(u: Utterance, custom: Readonly<Record<string, CustomIntent>> = {}): Intent[] {
  const t = u.text;
  const own = Object.entries(custom)
    .filter(([, intent]) => intent.patterns.some((pattern) => pattern.test(t)))
    .map(([name]) => name);
  if (own.length) return own;
  const out: Intent[] = [];
  if (HUMAN_ALWAYS.test(t) || HUMAN_WITH_VERB.test(t) || HUMAN_ALONE.test(t)) out.push('human');
  if (CANCEL.test(t)) out.push('cancel');
  if (REPEAT.test(t)) out.push('repeat');
  return out;
}
