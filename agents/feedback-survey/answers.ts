/**
 * Whether a spoken answer says anything: silence, fillers ("um", "öh") and "I don't know" /
 * "vet inte" get the question's follow-up prompt instead of being recorded as an answer.
 */

const FILLERS = new Set([
  'um',
  'uh',
  'eh',
  'er',
  'hmm',
  'mm',
  'ah',
  'öh',
  'äh',
  'hm',
  'well',
  'ja',
  'jo',
  'så',
  'nja',
]);

const NO_IDEA = [
  /\b(i )?(do not|don't|dont) know\b/,
  /\bno idea\b/,
  /\bnot sure\b/,
  /\b(jag )?vet (inte|ej)\b/,
  /\bingen aning\b/,
  /\bpass\b/,
];

export function isUnclearAnswer(text: string): boolean {
  const lowered = text.toLowerCase().trim();
  const tokens = lowered.split(/[^\p{L}']+/u).filter(Boolean);
  if (tokens.every((token) => FILLERS.has(token))) return true;
  return NO_IDEA.some((pattern) => pattern.test(lowered)) && tokens.length <= 6;
}
