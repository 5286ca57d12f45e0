import { describe, expect, it } from 'vitest';
import { BusinessHours } from '../../../agents/appointment-booking/index.js';
import {
  dateExtractor,
  type ExtractContext,
  timeExtractor,
  todayIn,
  utterance,
} from '../../../src/conversation/index.js';
import { NOW, TZ } from './helpers.js';

// NOW is Wednesday 5 March 2025, 10:00 in New York.
const ctx = (asked: boolean, slots: Record<string, unknown> = {}, now = NOW): ExtractContext => ({
  now,
  timeZone: TZ,
  today: todayIn(now, TZ),
  asked,
  slots,
  data: {},
});

const hours = new BusinessHours();
const time = timeExtractor((min, c) => hours.plausible(min, c.slots.date as string | undefined));

describe('dates relative to the call (Wed 2025-03-05, America/New_York)', () => {
  it.each([
    ['tomorrow', '2025-03-06'],
    ['today', '2025-03-05'],
    ['the day after tomorrow', '2025-03-07'],
    ['next tuesday', '2025-03-11'],
    ['tuesday', '2025-03-11'],
    ['this friday', '2025-03-07'],
    ['friday morning', '2025-03-07'],
    ['wednesday', '2025-03-12'], // said on a Wednesday: next week's
    ['this wednesday', '2025-03-05'],
    ['march tenth', '2025-03-10'],
    ['the fifth of march', '2025-03-05'],
    ['march the twentieth', '2025-03-20'],
    ['april first', '2025-04-01'],
    ['on the twelfth', '2025-03-12'],
    ['the third', '2025-04-03'], // the 3rd of this month has passed
    ['tuesday the eleventh', '2025-03-11'],
    ['in two days', '2025-03-07'],
    ['a week from friday', '2025-03-14'],
    ['next week tuesday', '2025-03-11'],
    ['um could i come in on monday please', '2025-03-10'],
    ['march fourth', '2026-03-04'], // already passed this year
    ['3/20', '2025-03-20'],
    ['can i do tomorrow at three', '2025-03-06'],
  ])('%s → %s', (spoken, expected) => {
    expect(dateExtractor(utterance(spoken), ctx(true))?.value).toBe(expected);
  });

  it.each([
    'next week',
    'sometime soon',
    'three thirty',
    'may i book',
    'my name is april',
    'five five five one two',
  ])('no date in "%s"', (spoken) => {
    expect(dateExtractor(utterance(spoken), ctx(true))).toBeNull();
  });

  it('uses the call time zone, not the server one: 23:30 UTC is still Wednesday in New York', () => {
    const late = new Date('2025-03-05T23:30:00Z');
    expect(dateExtractor(utterance('tomorrow'), ctx(true, {}, late))?.value).toBe('2025-03-06');
    const tokyo = { ...ctx(true, {}, late), timeZone: 'Asia/Tokyo', today: todayIn(late, 'Asia/Tokyo') };
    expect(dateExtractor(utterance('tomorrow'), tokyo)?.value).toBe('2025-03-07');
  });

  it('reports nlp as the method with a confidence', () => {
    const r = dateExtractor(utterance('march tenth'), ctx(true));
    expect(r).toMatchObject({ method: 'nlp' });
    expect(r!.confidence).toBeGreaterThan(0.8);
  });
});

describe('times (am/pm resolved by opening hours)', () => {
  it.each([
    ['three thirty p m', '15:30'],
    ['three thirty', '15:30'],
    ['at three', '15:00'],
    ['three', '15:00'],
    ['ten', '10:00'],
    ['nine a m', '09:00'],
    ['nine oh five in the morning', '09:05'],
    ['half past two', '14:30'],
    ['quarter to four', '15:45'],
    ['noon', '12:00'],
    ['twelve thirty', '12:30'],
    ["four o'clock", '16:00'],
    ['how about eleven fifteen', '11:15'],
    ['uh two please', '14:00'],
    ['tomorrow at 3pm', '15:00'],
    ['10:30am', '10:30'],
    ['15:30', '15:30'],
    ['five in the afternoon', '17:00'],
  ])('%s → %s', (spoken, expected) => {
    expect(time(utterance(spoken), ctx(true))?.value).toBe(expected);
  });

  it.each([
    'tomorrow',
    'the fifth of march',
    'five five five one two three four',
    'on the twelfth',
    'the first one',
  ])('no time in "%s" (asked)', (spoken) => {
    expect(time(utterance(spoken), ctx(true))).toBeNull();
  });

  it('needs a cue when not asked: "three" alone is not a time, "at three" is', () => {
    expect(time(utterance('three'), ctx(false))).toBeNull();
    expect(time(utterance('friday at three'), ctx(false))?.value).toBe('15:00');
  });

  it('an explicit meridiem is more certain than an inferred one', () => {
    expect(time(utterance('three pm'), ctx(true))!.confidence).toBeGreaterThan(
      time(utterance('at three'), ctx(true))!.confidence,
    );
  });

  it('a Saturday (open 9 to 1) reads "eleven" as morning and "twelve" as noon', () => {
    const sat = ctx(true, { date: '2025-03-08' });
    expect(time(utterance('eleven'), sat)?.value).toBe('11:00');
    expect(time(utterance('twelve'), sat)?.value).toBe('12:00');
  });
});
