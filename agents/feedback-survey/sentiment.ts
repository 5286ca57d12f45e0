/**
 * Offline sentiment of a survey answer, −1 (negative) … 1 (positive), for English and Swedish
 * answers: a small lexicon of the words customers use about a visit, with negation ("not
 * good", "inte bra") and intensifiers ("very", "jättebra"). The sum is squashed as VADER does
 * (x / √(x² + 15)) so one strong word does not read as certainty. When an LLM is configured
 * the flow may ask it instead; this is the default that needs no network.
 */

const WORD_SCORES: Record<string, number> = {
  // English
  good: 1,
  great: 2,
  excellent: 2.5,
  amazing: 2.5,
  fantastic: 2.5,
  wonderful: 2.5,
  nice: 1,
  friendly: 1.5,
  helpful: 1.5,
  fast: 1,
  quick: 1,
  clean: 1,
  fresh: 1,
  happy: 1.5,
  pleased: 1.5,
  love: 2,
  loved: 2,
  like: 1,
  liked: 1,
  perfect: 2.5,
  fine: 0.5,
  okay: 0.3,
  ok: 0.3,
  polite: 1,
  bad: -1.5,
  terrible: -2.5,
  awful: -2.5,
  horrible: -2.5,
  poor: -1.5,
  slow: -1,
  rude: -2,
  dirty: -1.5,
  stale: -1.5,
  broken: -1.5,
  expensive: -1,
  disappointed: -2,
  disappointing: -2,
  unhappy: -1.5,
  hate: -2.5,
  hated: -2.5,
  cold: -0.5,
  long: -0.5,
  wrong: -1.5,
  worse: -1.5,
  worst: -2.5,
  problem: -1,
  // Swedish
  bra: 1,
  jättebra: 2,
  toppen: 2,
  utmärkt: 2.5,
  fantastiskt: 2.5,
  underbart: 2.5,
  trevlig: 1.5,
  trevligt: 1.5,
  vänlig: 1.5,
  vänligt: 1.5,
  hjälpsam: 1.5,
  snabb: 1,
  snabbt: 1,
  rent: 1,
  fräscht: 1,
  färskt: 1,
  nöjd: 1.5,
  glad: 1.5,
  gillade: 1,
  gott: 1.5,
  god: 1,
  perfekt: 2.5,
  okej: 0.3,
  dålig: -1.5,
  dåligt: -1.5,
  hemskt: -2.5,
  usel: -2.5,
  uselt: -2.5,
  långsam: -1,
  långsamt: -1,
  otrevlig: -2,
  otrevligt: -2,
  smutsigt: -1.5,
  dyrt: -1,
  besviken: -2,
  missnöjd: -1.5,
  sämre: -1.5,
  sämst: -2.5,
  kallt: -0.5,
  fel: -1.5,
};

const NEGATIONS = new Set([
  'not',
  "n't",
  'no',
  'never',
  'hardly',
  'inte',
  'ej',
  'aldrig',
  'knappast',
  'isnt',
  'wasnt',
  'dont',
  'didnt',
]);
const INTENSIFIERS = new Set([
  'very',
  'really',
  'so',
  'extremely',
  'super',
  'mycket',
  'väldigt',
  'jätte',
  'riktigt',
  'supert',
]);

export interface Sentiment {
  score: number;
  /** Lexicon words the score rests on; none means the answer carried no opinion we know. */
  evidence: string[];
}

function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/n't\b/g, ' not')
    .split(/[^\p{L}']+/u)
    .filter(Boolean);
}

export function sentimentOf(text: string): Sentiment {
  const tokens = words(text);
  let sum = 0;
  const evidence: string[] = [];
  tokens.forEach((token, index) => {
    // Swedish compounds intensify by prefix: "jättetrevlig", "supergott".
    const prefix = ['jätte', 'super'].find(
      (start) => token.startsWith(start) && WORD_SCORES[token.slice(start.length)],
    );
    const base = WORD_SCORES[token] ?? (prefix ? WORD_SCORES[token.slice(prefix.length)]! * 1.5 : undefined);
    if (base === undefined) return;
    const before = tokens.slice(Math.max(0, index - 3), index);
    let value = base;
    if (before.some((word) => INTENSIFIERS.has(word))) value *= 1.5;
    // "not good" is mildly negative, "not bad" mildly positive: negation flips and dampens.
    if (before.some((word) => NEGATIONS.has(word))) value *= -0.6;
    sum += value;
    evidence.push(token);
  });
  const score = sum === 0 ? 0 : sum / Math.sqrt(sum * sum + 15);
  return { score: Math.round(Math.max(-1, Math.min(1, score)) * 1000) / 1000, evidence };
}
