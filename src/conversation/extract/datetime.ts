import * as chrono from 'chrono-node';
import {
  addDays,
  type ClockTime,
  clock,
  daysInMonth,
  type IsoDate,
  isoDate,
  isValidIsoDate,
  offsetMinutes,
  parseIsoDate,
  WEEKDAYS,
  weekdayOf,
} from '../clock.js';
import type { Utterance } from './normalize.js';
import { type ExtractContext, type Extractor, found } from './types.js';

/**
 * Dates and times relative to the call's clock and time zone. Dates go through chrono-node on
 * the digit-normalized text (plus a few phrasings chrono misses: "on the 12th", "a week from
 * friday", "next week tuesday"); times through regexes on the clock-normalized text, because
 * "at 3" on a clinic's line means 3 PM, which only the flow's opening hours can decide.
 */

// chrono also reads "the day", "the weekend" or "next week" as dates; a visit needs a day.
const DATE_WORD =
  /(\d|today|tonight|tomorrow|yesterday|mon|tue|wed|thu|fri|sat|sun|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)/;
const VAGUE = /^(?:next|this|last|a|the)?\s*(?:week|month|year|weekend)s?$/;

function chronoDates(
  text: string,
  ctx: ExtractContext,
): { date: IsoDate; confidence: number; text: string }[] {
  const ref = { instant: ctx.now, timezone: offsetMinutes(ctx.now, ctx.timeZone) };
  const out: { date: IsoDate; confidence: number; text: string }[] = [];
  for (const r of chrono.parse(text, ref, { forwardDate: true })) {
    const s = r.start;
    if (
      !(s.isCertain('day') || s.isCertain('weekday')) ||
      !DATE_WORD.test(r.text) ||
      VAGUE.test(r.text.trim())
    ) {
      continue;
    }
    let date = isoDate(s.get('year') ?? 0, s.get('month') ?? 1, s.get('day') ?? 1);
    let confidence = s.isCertain('month') && s.isCertain('day') ? 0.9 : 0.85;
    // "monday" said on a Monday almost always means next week's.
    const weekdayOnly = s.isCertain('weekday') && !s.isCertain('day');
    if (weekdayOnly && date === ctx.today && !/\b(this|today)\b/.test(r.text)) {
      date = addDays(date, 7);
      confidence = 0.7;
    }
    out.push({ date, confidence, text: r.text });
  }
  return out;
}

/** The next `day` of a month on or after today ("on the 12th"). */
function nextDayOfMonth(day: number, today: IsoDate): IsoDate | null {
  let { year, month } = parseIsoDate(today);
  for (let i = 0; i < 3; i++) {
    if (day <= daysInMonth(year, month)) {
      const candidate = isoDate(year, month, day);
      if (candidate >= today) return candidate;
    }
    month++;
    if (month > 12) {
      month = 1;
      year++;
    }
  }
  return null;
}

export function extractDate(u: Utterance, ctx: ExtractContext): { date: IsoDate; confidence: number } | null {
  let text = u.clock.replace(/\bnext week (\w+day)\b/, '$1 next week');
  const weekFrom = /\b(?:a )?week from (today|tomorrow|\w+day)\b/.exec(text);
  if (weekFrom) {
    const base = chronoDates(weekFrom[1]!, { ...ctx, today: '0000-00-00' })[0];
    if (base) return { date: addDays(base.date, 7), confidence: 0.8 };
    text = text.replace(weekFrom[0], ' ');
  }
  const results = chronoDates(text, ctx);
  const explicit = results.find((r) => r.confidence >= 0.9);
  // "the 12th" without a month: chrono ignores it, or keeps only the weekday next to it.
  const dom = /\b(?:the|on) (\d{1,2})(?:st|nd|rd|th)\b(?! of)/.exec(text);
  if (dom && !explicit) {
    const day = Number(dom[1]);
    const date = day >= 1 && day <= 31 ? nextDayOfMonth(day, ctx.today) : null;
    if (date) {
      const weekday = results.find((r) => r.confidence < 0.9);
      const agrees = !weekday || WEEKDAYS[weekdayOf(date)] === WEEKDAYS[weekdayOf(weekday.date)];
      return { date, confidence: agrees ? 0.8 : 0.5 };
    }
  }
  const best = explicit ?? results[0];
  return best && isValidIsoDate(best.date) ? { date: best.date, confidence: best.confidence } : null;
}

export const dateExtractor: Extractor<IsoDate> = (u, ctx) => {
  const r = extractDate(u, ctx);
  return r ? found(r.date, r.confidence, 'nlp') : null;
};

export interface SpokenTime {
  hour: number;
  minute: number;
  /** Whether the caller said am/pm (or noon, "in the afternoon"). */
  meridiem: 'am' | 'pm' | null;
}

const TIME_CUE = '(?:at|around|about|say|by|for|make it|how about|maybe|or|is|try)';

/** The first clock time in the utterance, as said (no meridiem inference). */
export function extractSpokenTime(
  u: Utterance,
  asked: boolean,
): { time: SpokenTime; confidence: number } | null {
  const s = u.clock;
  const mk = (
    h: string,
    m: string | undefined,
    mer: string | undefined,
    confidence: number,
  ): { time: SpokenTime; confidence: number } | null => {
    const hour = Number(h);
    const minute = Number(m ?? 0);
    if (hour > 23 || minute > 59) return null;
    const meridiem: SpokenTime['meridiem'] = mer === 'am' || mer === 'pm' ? mer : null;
    if (meridiem && (hour < 1 || hour > 12)) return null;
    return { time: { hour, minute, meridiem }, confidence };
  };
  let m = /\b(\d{1,2}):(\d{2})(?: (am|pm))?\b/.exec(s);
  if (m) return mk(m[1]!, m[2], m[3], m[3] ? 0.95 : 0.85);
  m = /\b(\d{1,2}) (am|pm)\b/.exec(s);
  if (m) return mk(m[1]!, undefined, m[2], 0.95);
  m = new RegExp(
    `\\b${TIME_CUE} (\\d{1,2})\\b(?! (?:st|nd|rd|th|of|days?|weeks?|minutes?|hours?|people|\\d))`,
  ).exec(s);
  if (m) return mk(m[1]!, undefined, undefined, 0.75);
  if (asked) {
    // A lone number answering "what time?": "three", "uh three please".
    const numbers = s.match(/\b\d+\b/g) ?? [];
    const lone = /^(?:[a-z']+ ){0,3}(\d{1,2})(?: [a-z']+){0,2}$/.exec(s);
    if (numbers.length === 1 && lone && !/\b\d+(st|nd|rd|th)\b/.test(s))
      return mk(lone[1]!, undefined, undefined, 0.7);
  }
  return null;
}

/** Picks am/pm for a time said without one: the first reading `plausible` accepts. */
export function resolveMeridiem(t: SpokenTime, plausible: (minutes: number) => boolean): ClockTime {
  const base = t.hour % 12;
  if (t.meridiem === 'am') return clock(base * 60 + t.minute);
  if (t.meridiem === 'pm') return clock((base + 12) * 60 + t.minute);
  if (t.hour === 0 || t.hour > 12) return clock(t.hour * 60 + t.minute);
  const am = base * 60 + t.minute;
  const pm = (base + 12) * 60 + t.minute;
  // Business default when both or neither fit: 1-6 is afternoon, 7-11 morning, 12 noon.
  const preferPm = t.hour <= 6 || t.hour === 12;
  const [first, second] = preferPm ? [pm, am] : [am, pm];
  if (plausible(first)) return clock(first);
  if (plausible(second)) return clock(second);
  return clock(first);
}

/** Time extractor; `plausible` (minutes since midnight) resolves a missing am/pm. */
export function timeExtractor(
  plausible: (minutes: number, ctx: ExtractContext) => boolean = () => true,
): Extractor<ClockTime> {
  return (u, ctx) => {
    const r = extractSpokenTime(u, ctx.asked);
    if (!r) return null;
    const value = resolveMeridiem(r.time, (min) => plausible(min, ctx));
    return found(value, r.time.meridiem ? r.confidence : Math.min(r.confidence, 0.8), 'regex');
  };
}
