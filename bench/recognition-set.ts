import type { Expectation } from '../src/contracts/expectation.js';
import { numberToWords } from '../src/providers/local/normalize.js';

/**
 * The synthetic utterance set of bench:recognition: per slot type, what a caller says, the
 * expectation the engine would publish in that state, and which words carry the slot value
 * (slot accuracy compares only those). Deterministic: a seeded generator picks the values.
 */
export type SlotType = 'name-in' | 'name-out' | 'digits' | 'date' | 'time' | 'yes-no' | 'correction';

export interface BenchUtterance {
  type: SlotType;
  /** What is synthesized and the reference transcript (spoken words). */
  text: string;
  expectation: Expectation;
}

/** Names the flow's own list has (the booking flow's language and its name expectation). */
export const FLOW_FIRST = [
  'john',
  'maria',
  'david',
  'james',
  'mary',
  'michael',
  'sarah',
  'emily',
  'peter',
  'linda',
];
export const FLOW_LAST = [
  'smith',
  'garcia',
  'lee',
  'johnson',
  'brown',
  'miller',
  'davis',
  'wilson',
  'taylor',
  'clark',
];
/** In the pronouncing dictionary, in neither the flow's nor the recognizer's built-in list. */
const OUT_FIRST = [
  'edgar',
  'felicia',
  'gwen',
  'harvey',
  'irene',
  'leon',
  'miriam',
  'vera',
  'wendy',
  'marcus',
];
const OUT_LAST = [
  'furlong',
  'kowalski',
  'brennan',
  'gallagher',
  'whitfield',
  'ramsey',
  'hawthorne',
  'delgado',
  'novak',
  'donovan',
];

const INTENTS = [
  'talk to a person',
  'a real person',
  'cancel',
  'cancel my appointment',
  'repeat that',
  'say that again',
];
const DIGIT_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = ['march', 'april', 'may', 'june', 'july', 'october'];
const ORDINALS = ['first', 'third', 'fifth', 'eighth', 'twelfth', 'fifteenth', 'twentieth', 'twenty first'];

const expect = (
  kind: Expectation['kind'],
  slots: string[],
  extra: Partial<Expectation> = {},
): Expectation => ({
  kind,
  state: `bench-${kind}`,
  slots,
  intentPhrases: INTENTS,
  ...extra,
});

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function buildUtteranceSet(seed = 12): BenchUtterance[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const out: BenchUtterance[] = [];
  const nameExp = expect('name', ['first_name', 'last_name'], { phrases: [...FLOW_FIRST, ...FLOW_LAST] });
  const leads = ['my name is ', "it's ", 'this is ', ''];
  for (let i = 0; i < 30; i++) {
    out.push({
      type: 'name-in',
      text: `${pick(leads)}${pick(FLOW_FIRST)} ${pick(FLOW_LAST)}`,
      expectation: nameExp,
    });
    out.push({
      type: 'name-out',
      text: `${pick(leads)}${pick(OUT_FIRST)} ${pick(OUT_LAST)}`,
      expectation: nameExp,
    });
  }
  const digitsExp = expect('digits', ['phone'], { digits: { min: 4, max: 10 } });
  for (let i = 0; i < 40; i++) {
    const groups = i % 2 === 0 ? [3, 3, 4] : [4];
    const said = groups.map((n) => Array.from({ length: n }, () => pick(DIGIT_WORDS)).join(' '));
    out.push({
      type: 'digits',
      text: `${i % 5 === 0 ? 'my number is ' : ''}${said.join(', ')}`,
      expectation: digitsExp,
    });
  }
  const dateExp = expect('date', ['date']);
  for (let i = 0; i < 30; i++) {
    const forms = [
      () => `next ${pick(WEEKDAYS)}`,
      () => `last ${pick(WEEKDAYS)}`,
      () => `${pick(MONTHS)} ${pick(ORDINALS)}`,
      () => `the ${pick(ORDINALS)}`,
      () => `this ${pick(WEEKDAYS)} afternoon`,
      () => pick(['tomorrow', 'tomorrow morning', 'today']),
    ];
    out.push({ type: 'date', text: pick(forms)(), expectation: dateExp });
  }
  const timeExp = expect('time', ['time']);
  for (let i = 0; i < 30; i++) {
    const h = numberToWords(1 + Math.floor(r() * 12));
    const forms = [
      () => `${h} thirty ${pick(['a m', 'p m'])}`,
      () => `at ${h} ${pick(['a m', 'p m'])}`,
      () => `${h} fifteen`,
      () => `at ${h} o'clock`,
      () => pick(['at noon', 'around noon']),
      () => `${h} forty five in the afternoon`,
    ];
    out.push({ type: 'time', text: pick(forms)(), expectation: timeExp });
  }
  const confirmExp = expect('confirm', ['date', 'time']);
  const yesNo = [
    'yes',
    'no',
    "yes that's correct",
    'nope',
    "yes that's right",
    'correct',
    'no thanks',
    'sure',
  ];
  for (let i = 0; i < 25; i++) out.push({ type: 'yes-no', text: pick(yesNo), expectation: confirmExp });
  for (let i = 0; i < 25; i++) {
    const h = numberToWords(1 + Math.floor(r() * 12));
    const forms = [
      () => `no make it ${pick(WEEKDAYS)}`,
      () => `actually ${h} a m would be better`,
      () => `the ${pick(['time', 'date'])} is wrong`,
      () => `no make it ${h} p m`,
      () => `actually ${pick(WEEKDAYS)} would be better`,
    ];
    out.push({ type: 'correction', text: pick(forms)(), expectation: confirmExp });
  }
  return out;
}

const NAME_FILLER = new Set(['my', 'name', 'is', "it's", 'this', "i'm", 'the']);
const DATE_WORDS = new Set([
  ...WEEKDAYS,
  'sunday',
  ...MONTHS,
  ...ORDINALS.flatMap((o) => o.split(' ')),
  'next',
  'last',
  'this',
  'today',
  'tomorrow',
  'morning',
  'afternoon',
]);
const TIME_WORDS = new Set([
  ...Array.from({ length: 59 }, (_, i) => numberToWords(i + 1).split(' ')).flat(),
  'a',
  'm',
  'p',
  "o'clock",
  'noon',
  'afternoon',
  'morning',
]);
const YES = new Set(['yes', 'yeah', 'yep', 'correct', 'right', 'sure', 'okay', 'ok']);
const NO = new Set(['no', 'nope', 'wrong', 'not', 'actually']);

/**
 * The slot value a transcript carries for a slot type, as a comparable string. `same` maps a
 * word to its canonical form (pronunciation) so homophones ("sara" / "sarah") count as one.
 */
export function slotValue(type: SlotType, words: string[], same: (w: string) => string): string {
  switch (type) {
    case 'name-in':
    case 'name-out':
      return words
        .filter((w) => !NAME_FILLER.has(w))
        .map(same)
        .join(' ');
    case 'digits':
      return words
        .map((w) => (w === 'oh' ? '0' : DIGIT_WORDS.indexOf(w)))
        .filter((d) => d !== -1)
        .join('');
    case 'date':
      return words.filter((w) => DATE_WORDS.has(w)).join(' ');
    case 'time':
      return words.filter((w) => TIME_WORDS.has(w)).join(' ');
    case 'yes-no':
      return polarity(words);
    case 'correction':
      return `${polarity(words)}:${words.filter((w) => DATE_WORDS.has(w) || TIME_WORDS.has(w) || w === 'time' || w === 'date').join(' ')}`;
  }
}

function polarity(words: string[]): string {
  const first = words.find((w) => YES.has(w) || NO.has(w) || w === 'the');
  if (!first) return '?';
  return YES.has(first) ? 'yes' : 'no';
}
