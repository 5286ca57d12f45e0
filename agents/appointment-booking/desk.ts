import {
  type FlowContext,
  listOf,
  type SlotValues,
  type StepResult,
  speakDate,
  speakTime,
  spellCode,
} from '../../src/conversation/index.js';
import type { BusinessHours } from './business-hours.js';
import type { ResolvedOptions } from './options.js';
import { appointmentRecord, feedbackRecord } from './records.js';
import type { bookingSlots } from './slots.js';
import { type Booking, bookWithFreshCode } from './store/store.js';

/**
 * The front desk behind the booking flow's system states: availability, booking, lookup,
 * cancellation. Each returns an outcome the flow maps to its next state, so the flow file
 * still shows every transition.
 */

export type BookingSlots = SlotValues<ReturnType<typeof bookingSlots>>;

export interface BookingData {
  /** Times offered after the requested one was taken ("the first one"). */
  alternatives: string[];
  /** The booking being rescheduled or cancelled. */
  existing: Booking | null;
  lookupFailures: number;
}

export type Ctx = FlowContext<BookingSlots, BookingData>;

/**
 * What every desk operation returns: whether it worked, what to say, set, clear and record
 * either way, and on failure whether to ask again for the day or the time (or give up).
 */
export type DeskOutcome = Omit<StepResult<BookingSlots, string>, 'goto'> & {
  ok: boolean;
  retry?: 'date' | 'time';
  giveUp?: boolean;
};

export function createDesk(o: ResolvedOptions, hours: BusinessHours) {
  const { store } = o;

  async function offerAlternatives(c: Ctx, date: string, time: string, lead: string): Promise<DeskOutcome> {
    const taken = await store.takenTimes(
      date,
      c.data.existing ? { exceptCode: c.data.existing.confirmationCode } : {},
    );
    const alternatives = hours.alternatives(date, time, taken, c.now, c.timeZone);
    c.data.alternatives = alternatives;
    if (alternatives.length > 0) {
      return {
        ok: false,
        retry: 'time',
        clear: ['time'],
        say: `${lead} The closest times I have on ${speakDate(date)} are ${listOf(alternatives.map(speakTime), 'or')}.`,
      };
    }
    const next = hours.nextOpenDay(date, c.now, c.timeZone);
    return {
      ok: false,
      retry: 'date',
      clear: ['date', 'time'],
      say: `${lead} We're fully booked on ${speakDate(date)}.${next ? ` The next day we're open is ${speakDate(next)}.` : ''}`,
    };
  }

  return {
    /** Business rules for the day and time together, then the calendar. */
    async availability(c: Ctx): Promise<DeskOutcome> {
      const { date, time } = c.slots as BookingSlots;
      const dateProblem = hours.checkDate(date, c.now, c.timeZone);
      if (dateProblem) return { ok: false, retry: 'date', say: dateProblem, clear: ['date'] };
      const timeProblem = hours.checkTime(time, date, c.now, c.timeZone);
      if (timeProblem) return { ok: false, retry: 'time', say: timeProblem, clear: ['time'] };
      const taken = await store.takenTimes(
        date,
        c.data.existing ? { exceptCode: c.data.existing.confirmationCode } : {},
      );
      if (!taken.includes(time)) {
        c.data.alternatives = [];
        return { ok: true };
      }
      return offerAlternatives(c, date, time, `Sorry, ${speakTime(time)} is already taken.`);
    },

    /** Books (or moves the existing booking to) the chosen slot. */
    async book(c: Ctx): Promise<DeskOutcome> {
      const s = c.slots as BookingSlots;
      const existing = c.data.existing;
      if (existing) {
        const r = await store.reschedule(existing.confirmationCode, s.date, s.time);
        if (r.ok) {
          return {
            ok: true,
            records: [
              appointmentRecord(r.booking, 'rescheduled', {
                previous: { date: r.previous.date, time: r.previous.time },
              }),
            ],
            say: `Done. Your appointment is now on ${speakDate(s.date)} at ${speakTime(s.time)}. Your confirmation code stays the same.`,
          };
        }
        if (r.reason === 'not_found')
          throw new Error(`booking ${existing.confirmationCode} vanished during the call`);
      } else {
        const r = await bookWithFreshCode(
          store,
          {
            ...(c.callId ? { conversationId: c.callId } : {}),
            userName: s.name,
            date: s.date,
            time: s.time,
            type: s.appointment_type,
            ...(s.phone ? { contact: s.phone } : {}),
          },
          c.random,
        );
        if (r.ok) {
          const code = spellCode(r.booking.confirmationCode);
          return {
            ok: true,
            records: [appointmentRecord(r.booking, 'booked')],
            say: `You're all set for ${speakDate(s.date)} at ${speakTime(s.time)}. Your confirmation code is ${code}. Again, that's ${code}.`,
          };
        }
        if (r.reason !== 'taken') throw new Error('could not generate a unique confirmation code');
      }
      return offerAlternatives(c, s.date, s.time, 'Sorry, that time was just taken by another caller.');
    },

    /** Finds the booking named by the confirmation code. */
    async lookup(c: Ctx): Promise<DeskOutcome> {
      const code = c.slots.confirmation_code ?? '';
      const b = await store.findByCode(code);
      if (b && b.status === 'confirmed') {
        c.data.existing = b;
        return {
          ok: true,
          set: {
            ...(b.userName ? { name: b.userName } : {}),
            ...(b.type ? { appointment_type: b.type } : {}),
            ...(b.contact ? { phone: b.contact } : {}),
          },
        };
      }
      c.data.lookupFailures++;
      const why = b
        ? 'That booking is already cancelled.'
        : `I couldn't find a booking with the code ${spellCode(code)}.`;
      return { ok: false, say: why, giveUp: c.data.lookupFailures >= 2 };
    },

    async cancel(c: Ctx): Promise<DeskOutcome> {
      const b = await store.cancel(c.data.existing?.confirmationCode ?? '');
      if (!b) return { ok: false, say: 'That booking was already cancelled.' };
      return {
        ok: true,
        records: [appointmentRecord(b, 'cancelled')],
        say: `Your appointment on ${speakDate(b.date)} at ${speakTime(b.time)} is cancelled.`,
      };
    },

    feedback(rating: number | undefined): DeskOutcome {
      if (rating === undefined) return { ok: false };
      return { ok: true, records: [feedbackRecord(rating)], say: 'Thank you for your feedback.' };
    },
  };
}
