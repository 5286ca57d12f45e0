import { numberToWords, ordinalToWords } from '../../conversation/speech.js';

/**
 * Text → the word sequence a speaker says, in the spelling of the CMU pronouncing dictionary:
 * lowercase, numbers as words ("3:30" → "three thirty", "5th" → "fifth", "0198" → "zero one
 * nine eight"), "PM" → "p m", codes like "AB37K" spelled out, punctuation dropped.
 * Used to build recognition vocabularies and to compare transcripts (WER).
 */

// One spelling of numbers for the whole project: the engine's speech helpers.
export { numberToWords, ordinalToWords };

/** Digits one by one ("0198" → "zero one nine eight"). */
export function digitsToWords(digits: string): string {
  return [...digits].map((d) => numberToWords(Number(d))).join(' ');
}

/** A time of day "h:mm" as spoken: 3:30 → "three thirty", 3:05 → "three oh five", 3:00 → "three o'clock". */
export function clockToWords(hours: number, minutes: number): string {
  const h = numberToWords(hours);
  if (minutes === 0) return `${h} o'clock`;
  if (minutes < 10) return `${h} oh ${numberToWords(minutes)}`;
  return `${h} ${numberToWords(minutes)}`;
}

export interface NormalizeOptions {
  /**
   * Whether a word is in the pronouncing dictionary. When given, unknown all-caps tokens
   * ("ABC") are spelled out letter by letter.
   */
  isWord?: (word: string) => boolean;
}

/** Normalizes text to spoken words (see module comment). */
export function normalizeText(text: string, options: NormalizeOptions = {}): string[] {
  let t = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // strip accents: "José" → "Jose"
    .replace(/[‘’`´]/g, "'")
    .replace(/[‐-―]/g, '-');
  // Phone numbers (555-0198, 415-555-0198, (415) 555-0198): read digit by digit.
  t = t.replace(
    /(?:\(\d{3}\)\s?|\b\d{3}[-. ])?\b\d{3}[-.]\d{4}\b/g,
    (m) => ` ${digitsToWords(m.replace(/\D/g, ''))} `,
  );
  // Times of day, before ":" is dropped.
  t = t.replace(
    /\b(\d{1,2}):(\d{2})\b/g,
    (_, h: string, m: string) => ` ${clockToWords(Number(h), Number(m))} `,
  );
  // a.m. / p.m. (also glued to a number: "10am", "3pm")
  t = t.replace(/(\d)\s*([ap])\.?\s?m\b\.?/gi, (_, d: string, ap: string) => `${d} ${ap.toLowerCase()} m `);
  t = t.replace(/\b([ap])\.m\.?/gi, (_, ap: string) => ` ${ap.toLowerCase()} m `);
  t = t.replace(/\b([AP])M\b/g, (_, ap: string) => ` ${ap.toLowerCase()} m `);
  // Ordinals: 1st 2nd 3rd 4th 21st
  t = t.replace(/\b(\d{1,4})(st|nd|rd|th)\b/gi, (_, n: string) => ` ${ordinalToWords(Number(n))} `);
  t = t.replace(/&/g, ' and ').replace(/%/g, ' percent ').replace(/\+/g, ' plus ').replace(/@/g, ' at ');
  const out: string[] = [];
  for (const raw of t.split(/[\s,;:!?"()[\]{}<>/\\|*_~=#^]+/)) {
    // Hyphens split words ("twenty-five", "e-mail"); keep inner apostrophes ("o'clock", "i'm").
    for (let tok of raw.split('-')) {
      tok = tok.replace(/^[.']+|[.']+$/g, '');
      if (!tok) continue;
      out.push(...normalizeToken(tok, options));
    }
  }
  return out;
}

function normalizeToken(tok: string, options: NormalizeOptions): string[] {
  if (/^\d+$/.test(tok)) {
    // Leading zeros or 5+ digits: a phone number / code read digit by digit.
    if ((tok.length > 1 && tok.startsWith('0')) || tok.length >= 5) return digitsToWords(tok).split(' ');
    return numberToWords(Number(tok)).split(' ');
  }
  if (/^\d+\.\d+$/.test(tok)) {
    const [a, b] = tok.split('.') as [string, string];
    return [...numberToWords(Number(a)).split(' '), 'point', ...digitsToWords(b).split(' ')];
  }
  if (/^[a-z0-9]+$/i.test(tok) && /\d/.test(tok) && /[a-z]/i.test(tok)) {
    // Mixed letters and digits: a code, spelled out.
    return [...tok.toLowerCase()].map((c) => (/\d/.test(c) ? numberToWords(Number(c)) : c));
  }
  // Dotted abbreviations like "u.s." → letters
  if (/^([a-z]\.)+[a-z]?$/i.test(tok)) return tok.toLowerCase().replace(/\./g, '').split('');
  const lower = tok.toLowerCase().replace(/[^a-z']/g, '');
  if (!lower) return [];
  if (
    options.isWord &&
    tok.length >= 2 &&
    tok.length <= 5 &&
    /^[A-Z]+$/.test(tok) &&
    !options.isWord(lower) &&
    lower.split('').every((c) => options.isWord!(c))
  ) {
    return lower.split('');
  }
  return [lower];
}

/** Normalized words joined with single spaces. */
export function normalizeSentence(text: string, options?: NormalizeOptions): string {
  return normalizeText(text, options).join(' ');
}
