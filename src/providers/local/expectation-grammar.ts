import { createHash } from 'node:crypto';
import type { Expectation, ExpectationKind } from '../../contracts/expectation.js';
import { MONTHS, WEEKDAYS } from '../../conversation/clock.js';
import type { PronouncingDictionary } from './dictionary.js';
import { COMMON_FIRST_NAMES, COMMON_LAST_NAMES, SPELLING_WORDS } from './names.js';
import { normalizeText, numberToWords, ordinalToWords } from './normalize.js';

/**
 * One JSGF grammar per expectation: what a caller can say when the conversation waits for
 * digits, a date or time, a yes/no (or a correction), one of a few options, a name or spelled
 * letters. Each grammar also accepts the expectation's intent phrases (a person, cancel,
 * repeat …), so those stay hearable in every state. `open` has no grammar: it is the flow's
 * n-gram. Nothing here names a flow's domain; flows add their words through the expectation.
 */
export interface ExpectationGrammar {
  /** Search name, stable for the same grammar text (the decoder keeps one search per name). */
  name: string;
  jsgf: string;
  /** Every word the grammar uses (all in the dictionary). */
  words: string[];
  /** Words of the expectation dropped because the dictionary does not know them. */
  oov: string[];
}

const DIGITS = ['zero', 'oh', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const LETTERS = 'abcdefghijklmnopqrstuvwxyz'.split('');

const alt = (xs: Iterable<string>) => [...new Set(xs)].filter(Boolean).join(' | ');
const range = (from: number, to: number, f: (n: number) => string) =>
  Array.from({ length: to - from + 1 }, (_, i) => f(from + i));

/** Rules shared by several grammars (JSGF bodies, referenced as <name>). */
const COMMON_RULES: Record<string, string> = {
  digit: alt(DIGITS),
  hour: alt(range(1, 12, numberToWords)),
  minute: alt(["o'clock", ...range(1, 9, (n) => `oh ${numberToWords(n)}`), ...range(10, 59, numberToWords)]),
  ampm: alt(['a m', 'p m', 'in the morning', 'in the afternoon', 'in the evening', 'tonight']),
  time: [
    '[at | around | about] <hour> [<minute>] [<ampm>]',
    '[at | around] (noon | midday | midnight)',
    '[at] (half past | quarter past | quarter to) <hour> [<ampm>]',
  ].join(' | '),
  weekday: alt(WEEKDAYS),
  month: alt(MONTHS),
  ordinal: alt(range(1, 31, ordinalToWords)),
  date: [
    '[on] [next | this | last | coming] <weekday> [the <ordinal>] [<daypart>]',
    '[on] <month> [the] <ordinal>',
    '[on] the <ordinal> [of <month>]',
    '(today | tomorrow | the day after tomorrow | next week) [<daypart>]',
  ].join(' | '),
  daypart: alt(['morning', 'afternoon', 'evening', 'in the morning', 'in the afternoon']),
  datetime: '<date> [[at] <time>] | <time> [on] [<date>]',
  yes: alt([
    'yes',
    'yeah',
    'yep',
    'yes please',
    "yes that's right",
    "yes that's correct",
    'correct',
    "that's correct",
    "that's right",
    'right',
    'sure',
    'okay',
    'ok',
    'sounds good',
    'perfect',
  ]),
  no: alt(['no', 'nope', 'no thanks', "that's wrong", "that's not right", 'not quite', 'wrong']),
};

/** Built-in vocabulary per kind, before the expectation's own words. */
function answerRules(kind: ExpectationKind, exp: Expectation, names: NameLists): Record<string, string> {
  switch (kind) {
    case 'digits':
      return {
        answer: `[my number is | it's | it is | the number is | the code is] ${digitRun(exp.digits)}`,
        // "double five" counts two; "triple" was left out: it was heard where none was said.
        digit_group: '<digit> | double <digit>',
      };
    case 'date':
      return { answer: "[it's | how about | what about | i'd like] <date> [please]" };
    case 'time':
      return { answer: "[it's | how about | what about | i'd like] <time> [please]" };
    case 'datetime':
      return { answer: "[it's | how about | what about | i'd like] <datetime> [please]" };
    case 'confirm':
      return {
        answer: '<yes> | <no> | [<no>] <correction> | <yes> <correction>',
        // A new value needs a lead-in or a trailer: a bare "the third" let "correct" be heard
        // as a date.
        correction: [
          '<lead> [<lead>] <value> [<trail>]',
          '<value> <trail>',
          'the <slot_word> is wrong',
          '[i want to] change the <slot_word>',
        ].join(' | '),
        lead: alt(['actually', 'sorry', 'make it', 'change it to', 'i said', 'i meant', 'how about']),
        trail: alt(['would be better', 'works better', 'instead', 'please', 'is better']),
        // Dates, or times on the quarter hour and five-minute marks, not their combinations:
        // the full date-time grammar made a plain "yes" decode 3x slower.
        value: '<date> | <round_time> | <phrase>',
        round_time: [
          '[at | around] <hour> [<round_minute>] [<ampm>]',
          '[at | around] (noon | midday | midnight)',
        ].join(' | '),
        round_minute: alt([
          "o'clock",
          'oh five',
          ...[10, 15, 20, 25, 30, 35, 40, 45, 50, 55].map(numberToWords),
        ]),
        slot_word: alt(['date', 'time', 'day', 'name', 'number', 'phone number', ...slotWords(exp)]),
      };
    case 'choice':
      return {
        answer: '[the] <option> [please] | [option | number] <digit> | <phrase>',
        option: alt(exp.options ?? []),
      };
    case 'name':
      return {
        answer: "[my name is | it's | this is | i'm | the name is] <full_name> | <full_name>",
        full_name: '<first_name> [<last_name>] | <last_name> | <phrase>',
        first_name: alt(names.first),
        last_name: alt(names.last),
      };
    case 'spelling':
      return {
        answer: "[it's | that's] <spelled>+",
        spelled: '<letter> [as in <spelling_word>] | double <letter>',
        letter: alt(LETTERS),
        spelling_word: alt([...SPELLING_WORDS, ...names.first].filter((w) => !w.includes('-'))),
      };
    case 'open':
      throw new Error("the 'open' expectation uses the flow's n-gram, not a grammar");
  }
}

/**
 * `min`..`max` digits (any number without a bound): the first `min` required, the rest optional and
 * nested, so the grammar cannot accept more digits than a whole answer has.
 */
function digitRun(digits: Expectation['digits']): string {
  if (!digits) return '<digit_group>+';
  const min = Math.max(1, Math.min(digits?.min ?? 1, 32));
  const max = Math.max(min, Math.min(digits?.max ?? 16, 32));
  let tail = '';
  for (let i = 0; i < max - min; i++) tail = `[<digit_group>${tail ? ` ${tail}` : ''}]`;
  return [...Array.from({ length: min }, () => '<digit_group>'), tail].filter(Boolean).join(' ');
}

/** Top-level alternatives of a rule body (the `|` outside brackets). */
function splitAlternatives(rhs: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of rhs) {
    if (ch === '(' || ch === '[') depth++;
    if (ch === ')' || ch === ']') depth--;
    if (ch === '|' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out.filter(Boolean);
}

function slotWords(exp: Expectation): string[] {
  return exp.slots.flatMap((s) => s.toLowerCase().split(/[^a-z]+/)).filter((w) => w.length > 1);
}

interface NameLists {
  first: string[];
  last: string[];
}

/**
 * Builds the grammar for `expectation` (not for `open`). Words the dictionary does not know are
 * dropped and reported in `oov`; a rule left empty matches nothing (`<VOID>`).
 */
export function buildExpectationGrammar(
  expectation: Expectation,
  dict: PronouncingDictionary,
): ExpectationGrammar {
  const oov = new Set<string>();
  const known = (text: string): string | undefined => {
    const words = normalizeText(text, { isWord: (w) => dict.has(w) });
    const missing = words.filter((w) => !dict.has(w));
    for (const w of missing) oov.add(w);
    return missing.length || words.length === 0 ? undefined : words.join(' ');
  };
  const phrases = (expectation.phrases ?? []).map(known).filter((p): p is string => !!p);
  const names: NameLists = {
    first: [...COMMON_FIRST_NAMES, ...phrases].filter((n) => dict.has(n.split(' ')[0] ?? '')),
    last: [...COMMON_LAST_NAMES, ...phrases].filter((n) => dict.has(n.split(' ')[0] ?? '')),
  };
  const intents = expectation.intentPhrases.map(known).filter((p): p is string => !!p);
  const options = (expectation.options ?? []).map(known).filter((p): p is string => !!p);
  const rules: Record<string, string> = {
    ...COMMON_RULES,
    ...answerRules(expectation.kind, { ...expectation, options }, names),
  };
  if (phrases.length) rules.phrase = alt(phrases);
  if (intents.length) rules.intent = alt(intents);
  // sphinxbase has no <VOID>: alternatives naming a rule left empty are dropped instead.
  for (const [name, rhs] of Object.entries(rules)) if (!rhs.trim()) delete rules[name];
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, rhs] of Object.entries(rules)) {
      const kept = splitAlternatives(rhs).filter((a) =>
        [...a.matchAll(/<(\w+)>/g)].every((m) => (m[1] as string) in rules),
      );
      if (kept.length === 0) delete rules[name];
      else if (kept.join(' | ') !== rhs) rules[name] = kept.join(' | ');
      else continue;
      changed = true;
    }
  }
  const top = ['answer', 'intent'].filter((r) => r in rules);
  const body = Object.entries(rules)
    .map(([name, rhs]) => `<${name}> = ${rhs};`)
    .join('\n');
  const jsgf = `#JSGF V1.0;\ngrammar expect;\npublic <utterance> = ${top.map((r) => `<${r}>`).join(' | ')};\n${body}\n`;
  const words = new Set<string>();
  for (const [, rhs] of Object.entries(rules)) {
    for (const token of rhs.split(/[\s|()[\]+*;]+/)) {
      if (token && !token.startsWith('<') && !token.startsWith('/')) words.add(token);
    }
  }
  for (const w of words) if (!dict.has(w)) throw new Error(`grammar word "${w}" is not in the dictionary`);
  const hash = createHash('sha256').update(jsgf).digest('hex').slice(0, 12);
  return { name: `${expectation.kind}-${hash}`, jsgf, words: [...words].sort(), oov: [...oov].sort() };
}
