import { describe, expect, it } from 'vitest';
import { DEFAULT_CALLING_HOURS, nextCallingTime } from '../../../agents/feedback-survey/calling-hours.js';

const at = (iso: string) => new Date(iso);
const next = (iso: string, hours = DEFAULT_CALLING_HOURS) => nextCallingTime(at(iso), hours).toISOString();

describe('survey calling hours (Monday–Friday 09:00–20:00 Stockholm by default)', () => {
  it('allows a call inside the window at once', () => {
    expect(next('2026-12-07T10:30:00Z')).toBe('2026-12-07T10:30:00.000Z');
  });

  it('moves an early call to 09:00 the same day and a late one to 09:00 the next weekday', () => {
    expect(next('2026-12-07T06:00:00Z')).toBe('2026-12-07T08:00:00.000Z');
    // Friday 20:30 in Stockholm → Monday 09:00.
    expect(next('2026-12-11T19:30:00Z')).toBe('2026-12-14T08:00:00.000Z');
    // 20:00 itself is closed: the window is [from, until).
    expect(next('2026-12-08T19:00:00Z')).toBe('2026-12-09T08:00:00.000Z');
  });

  it('follows the zone across daylight saving time (09:00 is 07:00Z in summer)', () => {
    expect(next('2026-06-13T12:00:00Z')).toBe('2026-06-15T07:00:00.000Z');
    // The Friday before the March change, late → Monday after it, in summer time.
    expect(next('2026-03-27T21:00:00Z')).toBe('2026-03-30T07:00:00.000Z');
  });

  it("uses the business's own days, hours and zone", () => {
    const weekends = { timeZone: 'America/New_York', days: [6, 7], from: '10:00', until: '12:00' };
    expect(next('2026-12-07T15:00:00Z', weekends)).toBe('2026-12-12T15:00:00.000Z');
    expect(next('2026-12-13T16:59:00Z', weekends)).toBe('2026-12-13T16:59:00.000Z');
    expect(() => nextCallingTime(at('2026-12-07T10:00:00Z'), { ...weekends, days: [] })).toThrow(
      /no weekday/,
    );
  });
});
