import { type Extractor, found } from './types.js';

/**
 * Confirmation codes: generated from an alphabet without look-alike or sound-alike
 * characters (no 0/O, 1/I/L, 5/S, 8/B, M/N; none of the "ee" letters B C D E G P T V Z that phone
 * audio blurs together), read back one character at a time, and heard back from "a f three
 * k q nine", "alpha foxtrot...", "a as in apple", or typed "AF3KQ9".
 */

export const CODE_ALPHABET = 'AFHJKQRUWXY234679';
export const CODE_LENGTH = 6;

export function generateCode(random: () => number, length = CODE_LENGTH, alphabet = CODE_ALPHABET): string {
  let code = '';
  for (let i = 0; i < length; i++) code += alphabet[Math.floor(random() * alphabet.length) % alphabet.length];
  return code;
}

const LETTER_NAMES: Record<string, string> = {
  ay: 'a',
  eh: 'a',
  bee: 'b',
  be: 'b',
  see: 'c',
  sea: 'c',
  cee: 'c',
  dee: 'd',
  ee: 'e',
  ef: 'f',
  eff: 'f',
  gee: 'g',
  aitch: 'h',
  age: 'h',
  eye: 'i',
  jay: 'j',
  kay: 'k',
  el: 'l',
  elle: 'l',
  em: 'm',
  en: 'n',
  pee: 'p',
  pea: 'p',
  cue: 'q',
  queue: 'q',
  are: 'r',
  ess: 's',
  tee: 't',
  tea: 't',
  you: 'u',
  vee: 'v',
  ex: 'x',
  why: 'y',
  zee: 'z',
  zed: 'z',
};
const NATO: Record<string, string> = {
  alpha: 'a',
  alfa: 'a',
  bravo: 'b',
  charlie: 'c',
  delta: 'd',
  echo: 'e',
  foxtrot: 'f',
  golf: 'g',
  hotel: 'h',
  india: 'i',
  juliet: 'j',
  juliett: 'j',
  kilo: 'k',
  lima: 'l',
  mike: 'm',
  november: 'n',
  oscar: 'o',
  papa: 'p',
  quebec: 'q',
  romeo: 'r',
  sierra: 's',
  tango: 't',
  uniform: 'u',
  victor: 'v',
  whiskey: 'w',
  whisky: 'w',
  xray: 'x',
  yankee: 'y',
  zulu: 'z',
};
const DIGITS: Record<string, string> = {
  zero: '0',
  one: '1',
  two: '2',
  three: '3',
  four: '4',
  five: '5',
  six: '6',
  seven: '7',
  eight: '8',
  nine: '9',
};

/** Characters for each token (null = not part of a code), handling "x as in y" and "double". */
function codeChars(tokens: string[]): (string | null)[] {
  const out: (string | null)[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === 'as' && tokens[i + 1] === 'in' && out.length > 0) {
      i += 2; // "a as in apple": the example word only repeats the letter
      continue;
    }
    if (t === 'double' && tokens[i + 1] === 'you') {
      out.push('w');
      i++;
      continue;
    }
    if ((t === 'double' || t === 'triple') && i + 1 < tokens.length) {
      const next = codeChars([tokens[i + 1]!])[0];
      if (next) {
        for (let k = 0; k < (t === 'double' ? 2 : 3); k++) out.push(next);
        i++;
        continue;
      }
    }
    if (/^[a-z]$/.test(t) || /^\d$/.test(t)) out.push(t);
    else if (/^[a-z0-9]{4,10}$/.test(t) && /\d/.test(t)) out.push(...t.split(''));
    else out.push(LETTER_NAMES[t] ?? NATO[t] ?? DIGITS[t] ?? null);
  }
  return out;
}

/** The code as heard (upper case); validation decides whether it is a well-formed code. */
export function codeExtractor(length = CODE_LENGTH): Extractor<string> {
  return (u, ctx) => {
    if (!ctx.asked) return null;
    // Typed as one word ("AF3KQ9").
    const whole = u.tokens.find((t) => t.length === length && /^[a-z0-9]+$/.test(t) && /\d/.test(t));
    if (whole) return found(whole.toUpperCase(), 0.9, 'regex');
    const chars = codeChars(u.tokens);
    let best: string[] = [];
    let run: string[] = [];
    for (const c of [...chars, null]) {
      if (c) run.push(c);
      else {
        if (run.length >= best.length) best = run;
        run = [];
      }
    }
    if (best.length < 3) return null;
    // Leading filler that maps to a letter ("a code a f ..."): keep the last `length` chars.
    const code = best.slice(-length).join('').toUpperCase();
    return found(code, best.length === length ? 0.85 : 0.6, 'regex');
  };
}

const DIGIT_WORDS = Object.fromEntries(Object.entries(DIGITS).map(([w, d]) => [d, w]));
const NATO_OF: Record<string, string> = {};
for (const [word, c] of Object.entries(NATO)) NATO_OF[c] ??= word; // first spelling: alpha, not alfa

/** How callers say codes from `alphabet` ("a f three ...", "alpha foxtrot three ..."), for grammars. */
export function codeSamples(alphabet = CODE_ALPHABET, length = CODE_LENGTH, count = 6): string[] {
  const chars = [...alphabet.toLowerCase()];
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    const code = Array.from({ length }, (_, i) => chars[(k * 5 + i * 3) % chars.length]!);
    out.push(code.map((c) => DIGIT_WORDS[c] ?? c).join(' '));
    out.push(`my code is ${code.map((c) => DIGIT_WORDS[c] ?? NATO_OF[c] ?? c).join(' ')}`);
  }
  out.push(...chars.filter((c) => NATO_OF[c]).map((c) => `${c} as in ${NATO_OF[c]}`));
  return out;
}
