import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';
import { TEEN_WORDS, TENS_WORDS, UNIT_WORDS } from './normalize.js';
import { type Extractor, found } from './types.js';

/**
 * Phone numbers, spoken ("five five five, one two three, four five six seven", "double
 * five", "eight hundred", "oh" for zero) or typed. Reads digit runs from the cleaned text
 * (not the clock view, where "five fifty five" would have become 5:55) and leaves validity to
 * libphonenumber-js: the slot's check explains what is wrong with an impossible number.
 */

const SEPARATORS = new Set(['dash', 'hyphen', 'and', 'then', 'area', 'code', 'plus']);

/** Digit runs in the utterance, e.g. "5551234567"; words between runs end a run. */
export function digitRuns(text: string): string[] {
  const runs: string[] = [];
  let run = '';
  let repeat = 1;
  const tokens = text.split(' ').filter(Boolean);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    let digits: string | null = null;
    if (/^\d+$/.test(t)) digits = t;
    else if (t in UNIT_WORDS) digits = String(UNIT_WORDS[t]);
    else if (t === 'oh' || t === 'o')
      digits =
        run || /^\d|^(zero|one|two|three|four|five|six|seven|eight|nine)$/.test(tokens[i + 1] ?? '')
          ? '0'
          : null;
    else if (t in TEEN_WORDS) digits = String(TEEN_WORDS[t]);
    else if (t in TENS_WORDS) {
      const unit = tokens[i + 1] ?? '';
      if (unit in UNIT_WORDS && unit !== 'zero') {
        digits = String(TENS_WORDS[t]! + UNIT_WORDS[unit]!);
        i++;
      } else digits = String(TENS_WORDS[t]);
    } else if (t === 'hundred' && run) digits = '00';
    else if (t === 'thousand' && run) digits = '000';
    else if (t === 'double' || t === 'triple') {
      repeat = t === 'double' ? 2 : 3;
      continue;
    } else if (run && SEPARATORS.has(t)) continue;
    if (digits === null) {
      if (run) runs.push(run);
      run = '';
      repeat = 1;
      continue;
    }
    run += digits.repeat(repeat);
    repeat = 1;
  }
  if (run) runs.push(run);
  return runs;
}

const CUE = /\b(number|phone|cell|mobile|reach me|call me|call back|contact)\b/;
const SAME_NUMBER = /\b(this|same|the) (number|phone)\b|\bnumber i'?m calling from\b|\bcaller id\b/;

/** E.164 if libphonenumber can read `digits` as a possible number, else null. */
export function toE164(digits: string, country: CountryCode): string | null {
  const p = parsePhoneNumberFromString(digits, country);
  return p?.isPossible() ? p.number : null;
}

export function isValidPhone(value: string, country: CountryCode): boolean {
  return parsePhoneNumberFromString(value, country)?.isValid() ?? false;
}

/**
 * Yields the digits as said when they cannot be a phone number (too short, no area code), so
 * that validation fails with a reason instead of the caller hearing "sorry?" again.
 */
export function phoneExtractor(country: CountryCode = 'US'): Extractor<string> {
  return (u, ctx) => {
    if (ctx.callerNumber && SAME_NUMBER.test(u.text)) {
      const e164 = toE164(ctx.callerNumber, country);
      if (e164) return found(e164, 0.9, 'regex');
    }
    const cued = CUE.test(u.text);
    const runs = digitRuns(u.text).sort((a, b) => b.length - a.length);
    const longest = runs[0];
    if (!longest) return null;
    if (!ctx.asked && !(cued && longest.length >= 7) && longest.length < 10) return null;
    if (longest.length < 7) return ctx.asked && longest.length >= 4 ? found(longest, 0.5, 'regex') : null;
    // "+44 20…" typed, or "plus four four…" said: an international number.
    const international = /\+\s*\d|\bplus\b/.test(u.raw.toLowerCase());
    const e164 = toE164(international ? `+${longest}` : longest, country);
    if (!e164) return found(longest, 0.5, 'regex');
    return found(e164, isValidPhone(e164, country) ? 0.9 : 0.75, 'regex');
  };
}
