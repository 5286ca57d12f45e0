import { MONTHS, WEEKDAYS } from '../clock.js';

/**
 * STT output is lowercase words without digits ("three thirty p m", "the fifth of march").
 * Extractors work on progressively normalized views of one utterance:
 *
 * - `text`: lowercase, punctuation stripped (apostrophes kept), "p m"/"p.m." → "pm";
 * - `numeric`: number words → digits ("twenty five" → 25), date-like ordinals → "5th";
 * - `clock`: `numeric` plus spoken clock times → "3:30 pm", "noon" → "12:00 pm".
 *
 * Consecutive single digits stay separate ("five five five" → "5 5 5"), which keeps phone
 * numbers and codes intact for the extractors that read digit runs.
 */
export interface Utterance {
  raw: string;
  text: string;
  numeric: string;
  clock: string;
  tokens: string[];
}

export const UNIT_WORDS: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
};
export const TEEN_WORDS: Record<string, number> = {
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
};
export const TENS_WORDS: Record<string, number> = {
  twenty: 20,
  thirty: 30,
  forty: 40,
  fourty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
};
const ORDINAL_WORDS: Record<string, number> = {
  first: 1,
  second: 2,
  third: 3,
  fourth: 4,
  fifth: 5,
  sixth: 6,
  seventh: 7,
  eighth: 8,
  ninth: 9,
  tenth: 10,
  eleventh: 11,
  twelfth: 12,
  thirteenth: 13,
  fourteenth: 14,
  fifteenth: 15,
  sixteenth: 16,
  seventeenth: 17,
  eighteenth: 18,
  nineteenth: 19,
  twentieth: 20,
  thirtieth: 30,
};

const MONTH_SET = new Set<string>([
  ...MONTHS,
  'jan',
  'feb',
  'mar',
  'apr',
  'jun',
  'jul',
  'aug',
  'sep',
  'sept',
  'oct',
  'nov',
  'dec',
]);
const WEEKDAY_SET = new Set<string>(WEEKDAYS);
/** After these an ordinal is not a day of the month ("the first one", "the second option"). */
const NON_DATE_AFTER_ORDINAL = new Set([
  'one',
  'ones',
  'option',
  'choice',
  'time',
  'available',
  'slot',
  'opening',
]);

const ONE_PRONOUN_AFTER = new Set([
  ...Object.keys(ORDINAL_WORDS),
  'the',
  'that',
  'this',
  'which',
  'earlier',
  'later',
  'other',
  'either',
  'any',
  'each',
  'no',
  'last',
  'next',
  'first',
]);

export function isNumberWord(w: string): boolean {
  return w in UNIT_WORDS || w in TEEN_WORDS || w in TENS_WORDS || w === 'hundred' || w === 'thousand';
}

export function cleanText(raw: string): string {
  return (
    raw
      // NFC so "José" typed with a combining accent matches the precomposed one.
      .normalize('NFC')
      .toLowerCase()
      .replace(/[’‘`]/g, "'")
      .replace(/\b([ap])\.\s?m\.?/g, '$1m')
      .replace(/o'\s?clock|o clock/g, "o'clock")
      // Keep typed dates (3/20) whole; every other symbol becomes a space.
      .replace(/(\d)\/(\d)/g, '$1\uE000$2')
      // Letters of every script stay (names keep their accents: "José García").
      .replace(/[^\p{L}\p{M}0-9:'\s\uE000]+/gu, ' ')
      .replace(/\uE000/g, '/')
      .replace(/(^|\s)'+|'+(\s|$)/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
  );
}

type Kind = 'unit' | 'teen' | 'tens' | 'hundred' | 'thousand' | null;

/** Parses one number phrase starting at tokens[i]; undefined if tokens[i] starts none. */
function numberAt(tokens: string[], i: number): { value: number; end: number; ordinal: boolean } | undefined {
  let total = 0;
  let current = 0;
  let last: Kind = null;
  let j = i;
  for (; j < tokens.length; j++) {
    const w = tokens[j]!;
    const open = last === null || last === 'hundred' || last === 'thousand';
    if (w in UNIT_WORDS && (open || last === 'tens')) {
      if (w === 'zero' && last !== null) break;
      current += UNIT_WORDS[w]!;
      last = 'unit';
      if (w === 'zero') {
        j++;
        break;
      }
    } else if (w in TEEN_WORDS && open) {
      current += TEEN_WORDS[w]!;
      last = 'teen';
    } else if (w in TENS_WORDS && open) {
      current += TENS_WORDS[w]!;
      last = 'tens';
    } else if (w === 'hundred' && (last === 'unit' || last === 'teen')) {
      current *= 100;
      last = 'hundred';
    } else if (w === 'thousand' && last !== null && last !== 'thousand') {
      total += current * 1000;
      current = 0;
      last = 'thousand';
    } else if (
      w === 'and' &&
      (last === 'hundred' || last === 'thousand') &&
      isNumberWord(tokens[j + 1] ?? '')
    ) {
      // "two hundred and five"
    } else if (w in ORDINAL_WORDS && (open || last === 'tens')) {
      const v = ORDINAL_WORDS[w]!;
      if (last === 'tens' && v >= 10) break;
      return { value: total + current + v, end: j + 1, ordinal: true };
    } else {
      break;
    }
  }
  if (last === null) return undefined;
  return { value: total + current, end: j, ordinal: false };
}

function ordinalSuffix(n: number): string {
  const mod100 = n % 100;
  if (mod100 >= 11 && mod100 <= 13) return 'th';
  return ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
}

/** Whether an ordinal at tokens[i..end) reads as a day of the month. */
function dateLikeOrdinal(tokens: string[], i: number, end: number): boolean {
  const before = tokens[i - 1] ?? '';
  const after = tokens[end] ?? '';
  if (NON_DATE_AFTER_ORDINAL.has(after)) return false;
  if (after === 'of' || MONTH_SET.has(after)) return true;
  if (MONTH_SET.has(before) || WEEKDAY_SET.has(before)) return true;
  return before === 'the' || before === 'on';
}

/** Number words → digits; "oh" between numbers → 0; date-like ordinals → "5th". */
export function wordsToDigits(text: string): string {
  const tokens = text.split(' ').filter(Boolean);
  const out: string[] = [];
  for (let i = 0; i < tokens.length; ) {
    const t = tokens[i]!;
    const prevIsNumber = /^\d+$/.test(out[out.length - 1] ?? '');
    if ((t === 'oh' || t === 'o') && prevIsNumber && (tokens[i + 1] ?? '') in UNIT_WORDS) {
      out.push('0');
      i++;
      continue;
    }
    // "the first one", "that one", "the later one": a pronoun, not the number 1.
    if (t === 'one' && ONE_PRONOUN_AFTER.has(tokens[i - 1] ?? '') && !isNumberWord(tokens[i + 1] ?? '')) {
      out.push(t);
      i++;
      continue;
    }
    const n = numberAt(tokens, i);
    if (!n) {
      out.push(t);
      i++;
      continue;
    }
    if (n.ordinal) {
      out.push(
        dateLikeOrdinal(tokens, i, n.end)
          ? `${n.value}${ordinalSuffix(n.value)}`
          : tokens.slice(i, n.end).join(' '),
      );
    } else {
      out.push(String(n.value));
    }
    i = n.end;
  }
  return out.join(' ');
}

const isInt = (t: string | undefined, lo: number, hi: number): boolean =>
  t !== undefined && /^\d{1,2}$/.test(t) && Number(t) >= lo && Number(t) <= hi;

/** "3 30" → "3:30", "3 0 5" → "3:05", "3 a m" → "3 am" (token rules; see spokenClock). */
function mergeClockTokens(tokens: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const prev = out[out.length - 1];
    const hourOk = isInt(t, 1, 12) && !MONTH_SET.has(prev ?? '') && prev !== 'the';
    if (hourOk && tokens[i + 1] === '0' && isInt(tokens[i + 2], 0, 9)) {
      out.push(`${t}:0${tokens[i + 2]}`);
      i += 2;
    } else if (
      hourOk &&
      /^[1-5]\d$/.test(tokens[i + 1] ?? '') &&
      !/^(of|st|nd|rd|th)$/.test(tokens[i + 2] ?? '')
    ) {
      out.push(`${t}:${tokens[i + 1]}`);
      i += 1;
    } else if ((t === 'a' || t === 'p') && tokens[i + 1] === 'm' && /^\d{1,2}(:\d{2})?$/.test(prev ?? '')) {
      out.push(`${t}m`);
      i += 1;
    } else {
      out.push(t);
    }
  }
  return out;
}

/** Spoken clock times in an already digit-normalized text → "H:MM" forms chrono and regexes read. */
export function spokenClock(numeric: string): string {
  let s = ` ${mergeClockTokens(numeric.split(' ').filter(Boolean)).join(' ')} `;
  s = s.replace(/ (?:twelve noon|12 noon|noon|midday|mid day)(?= )/g, ' 12:00 pm');
  s = s.replace(/ midnight(?= )/g, ' 12:00 am');
  s = s.replace(/ half past (\d{1,2})(?= )/g, ' $1:30');
  s = s.replace(/ quarter past (\d{1,2})(?= )/g, ' $1:15');
  s = s.replace(
    / (?:a )?quarter (?:to|of|till) (\d{1,2})(?= )/g,
    (_, h: string) => ` ${((Number(h) + 10) % 12) + 1}:45`,
  );
  s = s.replace(/ (\d{1,2}) (?:minutes )?past (\d{1,2})(?= )/g, (m, mm: string, h: string) =>
    Number(mm) < 60 ? ` ${h}:${mm.padStart(2, '0')}` : m,
  );
  s = s.replace(/ (\d{1,2}) o'clock(?= )/g, ' $1:00');
  s = s.replace(/ (\d{1,2}(?::\d{2})?) (?:in the morning|am)(?= )/g, ' $1 am');
  s = s.replace(
    / (\d{1,2}(?::\d{2})?) (?:in the afternoon|in the evening|at night|tonight|pm)(?= )/g,
    ' $1 pm',
  );
  s = s.replace(/ (\d{1,2}(?::\d{2})?)(am|pm)(?= )/g, ' $1 $2');
  return s.replace(/\s+/g, ' ').trim();
}

export function utterance(raw: string): Utterance {
  const text = cleanText(raw);
  const numeric = wordsToDigits(text);
  return { raw, text, numeric, clock: spokenClock(numeric), tokens: text.split(' ').filter(Boolean) };
}
