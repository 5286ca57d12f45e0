import { addDays, parseIsoDate, todayIn, zonedInstant, zonedParts } from '../../src/conversation/clock.js';

/** When a business's customers may be called: ISO weekdays (1 = Monday) and [from, until). */
export interface CallingHours {
  timeZone: string;
  days: readonly number[];
  /** HH:MM, wall clock in timeZone. */
  from: string;
  until: string;
}

export const DEFAULT_CALLING_HOURS: CallingHours = {
  timeZone: 'Europe/Stockholm',
  days: [1, 2, 3, 4, 5],
  from: '09:00',
  until: '20:00',
};

const minutesOf = (clock: string) => {
  const [hours, minutes] = clock.split(':').map(Number);
  return (hours ?? 0) * 60 + (minutes ?? 0);
};

/** `now` when a call may start now, else the next instant one may (within a week). */
export function nextCallingTime(now: Date, hours: CallingHours): Date {
  const from = minutesOf(hours.from);
  const until = minutesOf(hours.until);
  const today = todayIn(now, hours.timeZone);
  for (let offset = 0; offset <= 7; offset++) {
    const date = addDays(today, offset);
    const { year, month, day } = parseIsoDate(date);
    const isoWeekday = ((new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7) + 1;
    if (!hours.days.includes(isoWeekday)) continue;
    if (offset === 0) {
      const parts = zonedParts(now, hours.timeZone);
      const minute = parts.hour * 60 + parts.minute;
      if (minute >= from && minute < until) return now;
      if (minute >= until) continue;
    }
    return zonedInstant(date, from, hours.timeZone);
  }
  throw new RangeError('calling hours name no weekday');
}
