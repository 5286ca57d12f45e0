import { MONTHS, WEEKDAYS } from '../clock.js';
import { COMMON_FIRST_NAMES, COMMON_LAST_NAMES } from './names-data.js';
import { isNumberWord } from './normalize.js';
import { type Extractor, found } from './types.js';

/**
 * Person names: "my name is john smith", "this is jane", "it's jane doe", "i'm bob", "call me
 * al", "j o h n" (spelled), or a bare "john smith" when the agent just asked for the name.
 * Words that end a name ("and", "i'd like", weekdays...) or cannot start one ("i'm calling",
 * "it's tuesday") are listed below; everything else after a cue is taken as the name.
 */

const FIRST = new Set(COMMON_FIRST_NAMES);
const LAST = new Set(COMMON_LAST_NAMES);

// Words that end a name or cannot start one ("i'm calling", "it's tuesday", "never mind").
const STOP = new Set([
  ...WEEKDAYS,
  ...MONTHS,
  ...`
  a about actually afternoon again agent ah all also am an and any anytime are around as
  at available be because busy but by bye call calling can cancel change correct could
  did do doing done else er evening fine for forget free from going good goodbye great had have hello
  help her here hey hi him his hmm hoping how huh human i i'd i'll i'm if in interested is it it's
  just like looking me mind morning my name need never next no nope not nothing now of oh ok okay on
  operator or pardon person please pm quit really repeat representative right same schedule see so
  someone sorry speak speaking still stop sure talk thank thanks that the them then there this time to
  today tomorrow tonight trying uh um very wait want wanted was we well what when with wondering would
  wrong yeah yep yes you your
`
    .split(/\s+/)
    .filter(Boolean),
]);

const FILLERS =
  /^(?:(?:uh|um|er|ah|oh|hmm|yeah|yes|yep|sure|okay|ok|well|so|hi|hello|hey|it's|it is|the name is|name's|name|that's|that is|sorry|my name's)\s+)+/;
const CUES: [RegExp, number, boolean][] = [
  // [cue, confidence, needs a known first name unless asked]
  [
    /\b(?:my name is|my name's|my name|name is|name's|the name is|first name is|name would be)\s+/,
    0.9,
    false,
  ],
  [/\bcall me\s+/, 0.85, false],
  [/\bthis is\s+/, 0.8, false],
  [/\b(?:it's|it is)\s+/, 0.75, true],
  [/\b(?:i'm|i am)\s+/, 0.75, true],
];

const isWord = (w: string) => /^\p{L}[\p{L}\p{M}'-]*$/u.test(w) && !isNumberWord(w);

const capWord = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);

/** "o'brien mary-jane" → "O'Brien Mary-Jane". */
export function titleCase(name: string): string {
  return name
    .split(' ')
    .map((w) =>
      w
        .split('-')
        .map((p) => (/^[od]'./.test(p) ? `${p.charAt(0).toUpperCase()}'${capWord(p.slice(2))}` : capWord(p)))
        .join('-'),
    )
    .join(' ');
}

/** Up to three name words from `tokens`, joining spelled letters ("j o h n" → "john"). */
function takeName(tokens: string[], stop: ReadonlySet<string>): string[] {
  const letters: string[] = [];
  let i = 0;
  while (i < tokens.length && /^\p{L}$/u.test(tokens[i]!) && tokens[i] !== 'a' && tokens[i] !== 'i') {
    letters.push(tokens[i]!);
    i++;
  }
  if (letters.length >= 2) return [letters.join('')];
  const words: string[] = [];
  for (const w of tokens) {
    if (words.length === 3 || stop.has(w) || !isWord(w)) break;
    words.push(w);
  }
  // "john smith s m i t h": the spelling repeats the name; drop trailing single letters.
  while (words.length > 1 && words[words.length - 1]!.length === 1) words.pop();
  return words.length === 1 && words[0]!.length === 1 ? [] : words;
}

function confidenceFor(words: string[], base: number): number {
  const known = FIRST.has(words[0]!) || LAST.has(words[words.length - 1]!);
  return Math.min(0.95, known ? base + 0.05 : base - 0.1);
}

/**
 * A person's name after a cue ("my name is …") or, when asked, alone. `notNames` are the
 * flow's own words that end a name ("i'd like a reservation"), besides the common ones.
 */
export function nameExtractorFor(notNames: readonly string[] = []): Extractor<string> {
  const stop: ReadonlySet<string> = notNames.length ? new Set([...STOP, ...notNames]) : STOP;
  return (u, ctx) => extractName(u.text, ctx.asked, stop);
}

function extractName(text: string, asked: boolean, stop: ReadonlySet<string>) {
  for (const [cue, base, needsKnown] of CUES) {
    const m = cue.exec(text);
    if (!m) continue;
    const words = takeName(text.slice(m.index + m[0].length).split(' '), stop);
    if (words.length === 0) continue;
    if (needsKnown && !asked && !FIRST.has(words[0]!)) continue;
    return found(titleCase(words.join(' ')), confidenceFor(words, base), 'regex');
  }
  if (!asked) return null;
  const bare = text.replace(FILLERS, '').replace(/\s+(?:please|thanks|thank you|here|speaking)$/, '');
  const tokens = bare.split(' ').filter(Boolean);
  const words = takeName(tokens, stop);
  // A bare answer must be nothing but the name.
  const spelled = words.length === 1 && tokens.every((t) => t.length === 1);
  if (words.length === 0 || (words.length !== tokens.length && !spelled)) return null;
  return found(titleCase(words.join(' ')), confidenceFor(words, 0.75), 'regex');
}

export const nameExtractor: Extractor<string> = nameExtractorFor();
