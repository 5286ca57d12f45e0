import { type Extractor, found } from './types.js';

/**
 * One of a fixed set of options by keyword ("a cleaning", "just a check up"). Options are
 * tried in order, so list the more specific first ("cancel" before "visit"): the first
 * option with a matching keyword wins.
 */
export function choiceExtractor<T extends string>(
  options: Readonly<Record<T, readonly string[]>>,
  opts: { unprompted?: boolean } = {},
): Extractor<T> {
  const compiled = (Object.entries(options) as [T, readonly string[]][]).map(([value, words]) => ({
    value,
    res: [value.replace(/_/g, ' '), ...words].map(
      (w) => new RegExp(`\\b${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`),
    ),
  }));
  return (u, ctx) => {
    if (!ctx.asked && !opts.unprompted) return null;
    for (const { value, res } of compiled) {
      if (res.some((re) => re.test(u.text))) return found(value, ctx.asked ? 0.9 : 0.8, 'regex');
    }
    return null;
  };
}

const RATING_WORDS: [RegExp, number][] = [
  [/\b(excellent|amazing|perfect|fantastic|outstanding|awesome|brilliant)\b/, 5],
  [/\b(great|very good|really good)\b/, 4],
  [/\b(good|pretty good|nice)\b/, 4],
  [/\b(ok|okay|fine|average|alright|all right|so so)\b/, 3],
  [/\b(bad|poor|not good|not great)\b/, 2],
  [/\b(terrible|awful|horrible|worst)\b/, 1],
];

/**
 * A number on a scale ("four", "i'd give it a five", "five out of five", "4 stars") or a
 * rating word. Out-of-range numbers are returned as heard so validation can say the range.
 */
export function ratingExtractor(): Extractor<number> {
  return (u, ctx) => {
    if (!ctx.asked) return null;
    const outOf = /\b(\d+) out of \d+\b/.exec(u.numeric);
    if (outOf) return found(Number(outOf[1]), 0.95, 'regex');
    const numbers = (u.numeric.match(/\b\d+\b/g) ?? []).map(Number);
    if (numbers.length === 1) return found(numbers[0]!, 0.9, 'regex');
    for (const [re, value] of RATING_WORDS) {
      const negated = /\bnot (good|great|bad)\b/.test(u.text);
      if (re.test(u.text)) return found(negated && value >= 4 ? 2 : value, 0.6, 'nlp');
    }
    return null;
  };
}

/** Any integer in the utterance (the only one), for menus and counts. */
export function integerExtractor(): Extractor<number> {
  return (u, ctx) => {
    const numbers = u.numeric.match(/\b\d+\b/g) ?? [];
    return ctx.asked && numbers.length === 1 ? found(Number(numbers[0]), 0.85, 'regex') : null;
  };
}

const PICKS: [RegExp, (n: number) => number][] = [
  [/\b(first|earlier|earliest|sooner|former)\b/, () => 0],
  [/\b(second|middle)\b/, (n) => Math.min(1, n - 1)],
  [/\b(third)\b/, (n) => Math.min(2, n - 1)],
  [/\b(last|later|latest|latter)\b/, (n) => n - 1],
];

/**
 * "The first one" / "the later one" when the agent just offered options, which the flow keeps
 * in `data[key]` (e.g. alternative times after a slot was taken).
 */
export function offeredChoiceExtractor<T>(key: string): Extractor<T> {
  return (u, ctx) => {
    const offered = ctx.data[key];
    if (!ctx.asked || !Array.isArray(offered) || offered.length === 0) return null;
    if (offered.length === 1 && /\b(that one|that|yes|sure|ok|okay|fine)\b/.test(u.text)) {
      return found(offered[0] as T, 0.75, 'regex');
    }
    for (const [re, pick] of PICKS) {
      if (re.test(u.text)) return found(offered[pick(offered.length)] as T, 0.8, 'regex');
    }
    return null;
  };
}
