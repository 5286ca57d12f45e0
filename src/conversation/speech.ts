import {
  type ClockTime,
  type IsoDate,
  MONTHS,
  minutesOf,
  parseIsoDate,
  WEEKDAYS,
  weekdayOf,
} from './clock.js';

/**
 * Spoken forms of slot values. Replies are read by TTS engines of very different quality
 * (flite, espeak, OpenAI), so they stick to forms all of them pronounce well: "Tuesday,
 * March 11th", "3:30 PM", codes and phone numbers one character at a time.
 */

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export function ordinal(n: number): string {
  const mod100 = n % 100;
  if (mod100 >= 11 && mod100 <= 13) return `${n}th`;
  const suffix: Record<number, string> = { 1: 'st', 2: 'nd', 3: 'rd' };
  return `${n}${suffix[n % 10] ?? 'th'}`;
}

export function speakDate(date: IsoDate): string {
  const { month, day } = parseIsoDate(date);
  return `${cap(WEEKDAYS[weekdayOf(date)] ?? '')}, ${cap(MONTHS[month - 1] ?? '')} ${ordinal(day)}`;
}

export function speakTime(time: ClockTime): string {
  const total = minutesOf(time);
  const h24 = Math.floor(total / 60);
  const m = total % 60;
  if (h24 === 12 && m === 0) return 'noon';
  const h12 = h24 % 12 === 0 ? 12 : h24 % 12;
  const suffix = h24 < 12 ? 'AM' : 'PM';
  return m === 0 ? `${h12} ${suffix}` : `${h12}:${String(m).padStart(2, '0')} ${suffix}`;
}

/** "AF3K9Q" → "A, F, 3, K, 9, Q": one character per beat so the caller can write it down. */
export function spellCode(code: string): string {
  return [...code].join(', ');
}

/** "+15551234567" → "5 5 5, 1 2 3, 4 5 6 7" (national digits, grouped like people say them). */
export function speakPhone(e164: string): string {
  const digits = e164.replace(/\D/g, '');
  const national = digits.length === 11 && digits.startsWith('1') ? digits.slice(1) : digits;
  const groups =
    national.length === 10 ? [national.slice(0, 3), national.slice(3, 6), national.slice(6)] : [national];
  return groups.map((g) => [...g].join(' ')).join(', ');
}

/** "a, b and c". */
export function listOf(items: string[], conjunction = 'and'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
}

const UNITS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const ORDINAL_UNITS: Record<string, string> = {
  one: 'first',
  two: 'second',
  three: 'third',
  five: 'fifth',
  eight: 'eighth',
  nine: 'ninth',
  twelve: 'twelfth',
};

/** 0..999999 in words as STT engines write them ("twenty five"). */
export function numberToWords(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n >= 1_000_000)
    throw new RangeError(`numberToWords: ${n} out of range`);
  if (n < 20) return UNITS[n] ?? String(n);
  if (n < 100) {
    const t = TENS[Math.floor(n / 10)] ?? '';
    return n % 10 === 0 ? t : `${t} ${UNITS[n % 10]}`;
  }
  if (n < 1000) {
    const rest = n % 100;
    return `${UNITS[Math.floor(n / 100)]} hundred${rest ? ` ${numberToWords(rest)}` : ''}`;
  }
  const rest = n % 1000;
  return `${numberToWords(Math.floor(n / 1000))} thousand${rest ? ` ${numberToWords(rest)}` : ''}`;
}

export function ordinalToWords(n: number): string {
  const words = numberToWords(n).split(' ');
  const last = words.pop() ?? '';
  const ord =
    ORDINAL_UNITS[last] ??
    (last.endsWith('y') ? `${last.slice(0, -1)}ieth` : last.endsWith('t') ? `${last}h` : `${last}th`);
  return [...words, ord].join(' ');
}

/** "15:30" → ["three thirty", "three thirty p m", ...]: how a caller may say a clock time. */
export function spokenTimes(time: ClockTime): string[] {
  const total = minutesOf(time);
  const h24 = Math.floor(total / 60);
  const m = total % 60;
  const h = numberToWords(h24 % 12 === 0 ? 12 : h24 % 12);
  const mer = h24 < 12 ? 'a m' : 'p m';
  const part = h24 < 12 ? 'in the morning' : h24 < 17 ? 'in the afternoon' : 'in the evening';
  if (m === 0) {
    const out = [h, `${h} ${mer}`, `${h} o'clock`, `${h} ${part}`];
    if (h24 === 12) out.push('noon', 'twelve noon');
    return out;
  }
  const mm = m < 10 ? `oh ${numberToWords(m)}` : numberToWords(m);
  const out = [`${h} ${mm}`, `${h} ${mm} ${mer}`];
  if (m === 30) out.push(`half past ${h}`);
  if (m === 15) out.push(`quarter past ${h}`);
  if (m === 45) out.push(`quarter to ${numberToWords((h24 + 1) % 12 || 12)}`);
  return out;
}
