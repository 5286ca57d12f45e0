import {
  addDays,
  type ClockTime,
  clock,
  daysBetween,
  type IsoDate,
  minutesOf,
  nowClock,
  todayIn,
  WEEKDAYS,
  type Weekday,
  weekdayOf,
} from '../../src/conversation/clock.js';
import { listOf, speakDate, speakTime } from '../../src/conversation/speech.js';

/**
 * Opening hours and appointment slots, with refusals phrased for the caller ("Sorry, we're
 * closed on Sundays."). Everything is in the business's wall-clock time.
 */

export interface BusinessHoursConfig {
  /** Weekday → [open, close) as HH:MM; a missing day is closed. */
  hours: Partial<Record<Weekday, readonly [ClockTime, ClockTime]>>;
  /** Length of one appointment; appointments start on multiples of it from opening. */
  slotMinutes: number;
  closedDates?: readonly IsoDate[];
  /** Bookings are taken this many days ahead at most. Default 90. */
  maxDaysAhead?: number;
  /** Same-day appointments need this much notice. Default 0. */
  minNoticeMinutes?: number;
}

export const DEFAULT_HOURS: BusinessHoursConfig = {
  hours: {
    monday: ['09:00', '17:00'],
    tuesday: ['09:00', '17:00'],
    wednesday: ['09:00', '17:00'],
    thursday: ['09:00', '17:00'],
    friday: ['09:00', '17:00'],
    saturday: ['09:00', '13:00'],
  },
  slotMinutes: 30,
  maxDaysAhead: 90,
};

const plural = (day: string) => `${day.charAt(0).toUpperCase()}${day.slice(1)}s`;

export class BusinessHours {
  readonly config: BusinessHoursConfig;

  constructor(config: BusinessHoursConfig = DEFAULT_HOURS) {
    if (!(config.slotMinutes > 0 && config.slotMinutes <= 24 * 60))
      throw new RangeError('slotMinutes must be 1..1440');
    this.config = config;
  }

  hoursOn(date: IsoDate): readonly [ClockTime, ClockTime] | undefined {
    if (this.config.closedDates?.includes(date)) return undefined;
    return this.config.hours[WEEKDAYS[weekdayOf(date)]!];
  }

  isOpenDay(date: IsoDate): boolean {
    return this.hoursOn(date) !== undefined;
  }

  /** Why `date` cannot be booked, or null. */
  checkDate(date: IsoDate, now: Date, timeZone: string): string | null {
    const today = todayIn(now, timeZone);
    if (date < today) return 'That date has already passed.';
    const ahead = this.config.maxDaysAhead ?? 90;
    if (daysBetween(today, date) > ahead) return `We only take bookings up to ${ahead} days ahead.`;
    if (this.config.closedDates?.includes(date)) return `Sorry, we're closed on ${speakDate(date)}.`;
    if (!this.isOpenDay(date)) return `Sorry, we're closed on ${plural(WEEKDAYS[weekdayOf(date)]!)}.`;
    if (date === today && this.slots(date, now, timeZone).length === 0)
      return "Sorry, we're fully past today's last appointment.";
    return null;
  }

  /** Why `time` cannot be booked (on `date` if known), or null. */
  checkTime(time: ClockTime, date: IsoDate | undefined, now: Date, timeZone: string): string | null {
    const t = minutesOf(time);
    const open = date ? this.hoursOn(date) : this.widest();
    if (!open) return null; // the date itself is refused elsewhere
    const [from, to] = open.map(minutesOf) as [number, number];
    const last = to - this.config.slotMinutes;
    const on = date ? ` on ${plural(WEEKDAYS[weekdayOf(date)]!)}` : '';
    if (t < from || t >= to)
      return `Sorry, we're open from ${speakTime(open[0])} to ${speakTime(open[1])}${on}.`;
    if (t > last) return `The last appointment of the day starts at ${speakTime(clock(last))}.`;
    if ((t - from) % this.config.slotMinutes !== 0) {
      return `Appointments start every ${this.config.slotMinutes} minutes, for example at ${speakTime(clock(from))} or ${speakTime(clock(from + this.config.slotMinutes))}.`;
    }
    if (date && date === todayIn(now, timeZone)) {
      const earliest = minutesOf(nowClock(now, timeZone)) + (this.config.minNoticeMinutes ?? 0);
      if (t <= earliest) return 'That time has already passed today.';
    }
    return null;
  }

  /** Start times of every slot on `date` still in the future. */
  slots(date: IsoDate, now: Date, timeZone: string): ClockTime[] {
    const open = this.hoursOn(date);
    if (!open) return [];
    const [from, to] = open.map(minutesOf) as [number, number];
    const today = todayIn(now, timeZone);
    const earliest =
      date === today ? minutesOf(nowClock(now, timeZone)) + (this.config.minNoticeMinutes ?? 0) : -1;
    const out: ClockTime[] = [];
    for (let t = from; t + this.config.slotMinutes <= to; t += this.config.slotMinutes) {
      if (t > earliest) out.push(clock(t));
    }
    return out;
  }

  /** Free slots on `date` nearest to `time` (earlier or later), at most `count`. */
  alternatives(
    date: IsoDate,
    time: ClockTime,
    taken: readonly ClockTime[],
    now: Date,
    timeZone: string,
    count = 2,
  ): ClockTime[] {
    const t = minutesOf(time);
    return this.slots(date, now, timeZone)
      .filter((s) => !taken.includes(s) && s !== time)
      .sort((a, b) => Math.abs(minutesOf(a) - t) - Math.abs(minutesOf(b) - t) || minutesOf(a) - minutesOf(b))
      .slice(0, count)
      .sort();
  }

  /** The first open day after `date` (within the booking horizon), or null. */
  nextOpenDay(date: IsoDate, now: Date, timeZone: string): IsoDate | null {
    for (let i = 1; i <= 31; i++) {
      const d = addDays(date, i);
      if (this.checkDate(d, now, timeZone) === null) return d;
    }
    return null;
  }

  /** Whether a time said without am/pm reads well as `minutes` (used to pick am or pm). */
  plausible(minutes: number, date?: IsoDate): boolean {
    const open = date ? (this.hoursOn(date) ?? this.widest()) : this.widest();
    if (!open) return false;
    return minutes >= minutesOf(open[0]) && minutes < minutesOf(open[1]);
  }

  /** "Monday to Friday 9 AM to 5 PM, and Saturdays 9 AM to 1 PM" style summary. */
  describe(): string {
    const groups: { days: Weekday[]; range: string }[] = [];
    for (const day of [...WEEKDAYS.slice(1), WEEKDAYS[0]]) {
      const h = this.config.hours[day];
      if (!h) continue;
      const range = `${speakTime(h[0])} to ${speakTime(h[1])}`;
      const last = groups[groups.length - 1];
      if (last && last.range === range) last.days.push(day);
      else groups.push({ days: [day], range });
    }
    const cap = (d: string) => d.charAt(0).toUpperCase() + d.slice(1);
    return listOf(
      groups.map((g) => {
        const days =
          g.days.length > 2
            ? `${cap(g.days[0]!)} to ${cap(g.days[g.days.length - 1]!)}`
            : listOf(g.days.map(cap));
        return `${days} ${g.range}`;
      }),
    );
  }

  private widest(): readonly [ClockTime, ClockTime] | undefined {
    const all = Object.values(this.config.hours).filter(Boolean) as [ClockTime, ClockTime][];
    if (all.length === 0) return undefined;
    const from = Math.min(...all.map(([a]) => minutesOf(a)));
    const to = Math.max(...all.map(([, b]) => minutesOf(b)));
    return [clock(from), clock(to)];
  }
}
