import { daysInMonth, MONTHS, WEEKDAYS } from './clock.js';
import { slotDefs } from './flow.js';
import { numberToWords, ordinalToWords, spokenTimes } from './speech.js';
import type { Flow } from './types.js';

/**
 * What callers are likely to say in a flow, for the offline recognizer's grammar or 3-gram
 * model: a recognizer constrained to the domain goes from useless to usable (see
 * ARCHITECTURE.md), but it can only hear words it was given. Phrases are lowercase words as
 * STT engines write them (no digits, no punctuation besides apostrophes).
 */
export interface DomainLanguage {
  phrases: string[];
  words: string[];
}

const YES_NO = [
  'yes',
  'yeah',
  'yep',
  'yes please',
  'yes that is right',
  "yes that's correct",
  "that's right",
  'correct',
  'sounds good',
  'perfect',
  'okay',
  'sure',
  'go ahead',
  'no',
  'nope',
  'no thanks',
  'no thank you',
  "that's not right",
  "no that's wrong",
  'not quite',
];
const CORRECTIONS = [
  'no make it wednesday',
  'actually make it four p m',
  'i meant tuesday',
  'change it to friday',
  'sorry i meant three thirty',
  'can we do thursday instead',
  'no the tenth',
  'wait make that monday',
  'no my name is',
  'actually the time should be ten a m',
  'no change the day',
];
const INTENT_PHRASES = [
  'never mind',
  'forget it',
  'cancel that',
  'stop',
  'goodbye',
  'bye',
  'thank you bye',
  'i want to speak to a human',
  'operator',
  'representative',
  'agent',
  'can i talk to a real person',
  'transfer me to the front desk',
  'let me speak to someone',
  'customer service',
  'can you repeat that',
  'say that again',
  'sorry what',
  'pardon',
  'what was that',
  'one more time',
];
const FILLERS = [
  'um',
  'uh',
  'please',
  'thank you',
  'thanks',
  'hello',
  'hi',
  'hi there',
  'good morning',
  'good afternoon',
];

function dates(): string[] {
  const out = ['today', 'tomorrow', 'the day after tomorrow', 'next week', 'in two days', 'in three days'];
  for (const d of WEEKDAYS) {
    out.push(d, `on ${d}`, `next ${d}`, `this ${d}`, `${d} morning`, `${d} afternoon`, `a week from ${d}`);
  }
  for (let day = 1; day <= 31; day++) out.push(`the ${ordinalToWords(day)}`, `on the ${ordinalToWords(day)}`);
  for (const [i, month] of MONTHS.entries()) {
    for (let day = 1; day <= daysInMonth(2024, i + 1); day++) {
      out.push(`${month} ${ordinalToWords(day)}`, `the ${ordinalToWords(day)} of ${month}`);
    }
  }
  return out;
}

function times(): string[] {
  const out = [
    'noon',
    'in the morning',
    'in the afternoon',
    'any time',
    'the first one',
    'the second one',
    'the earlier one',
    'the later one',
  ];
  for (let m = 7 * 60; m <= 19 * 60; m += 15) {
    const hh = String(Math.floor(m / 60)).padStart(2, '0');
    const mm = String(m % 60).padStart(2, '0');
    for (const s of spokenTimes(`${hh}:${mm}`)) out.push(s, `at ${s}`);
  }
  return out;
}

function numbers(): string[] {
  const out: string[] = ['oh', 'double', 'triple', 'hundred', 'thousand'];
  for (let n = 0; n <= 31; n++) out.push(numberToWords(n));
  for (let n = 40; n <= 90; n += 10) out.push(numberToWords(n));
  return out;
}

/** Lowercase words only: digits spelled out, punctuation other than apostrophes removed. */
function speakable(phrase: string): string {
  return phrase
    .toLowerCase()
    .replace(/\d+/g, (d) => ` ${numberToWords(Number(d))} `)
    .replace(/[^a-z'\s]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function domainLanguage(flow: Flow): DomainLanguage {
  const phrases: string[] = [
    ...YES_NO,
    ...CORRECTIONS,
    ...INTENT_PHRASES,
    ...Object.values(flow.spec.customIntents ?? {}).flatMap((intent) => intent.phrases),
    ...FILLERS,
    ...dates(),
    ...times(),
    ...numbers(),
  ];
  for (const def of Object.values(slotDefs(flow))) phrases.push(...(def.samples ?? []));
  phrases.push(...(flow.spec.vocabulary?.phrases ?? []));
  const unique = [...new Set(phrases.map(speakable).filter(Boolean))];
  const words = new Set(unique.flatMap((p) => p.split(' ')));
  for (const w of flow.spec.vocabulary?.words ?? []) words.add(speakable(w));
  words.delete('');
  return { phrases: unique, words: [...words].sort() };
}
