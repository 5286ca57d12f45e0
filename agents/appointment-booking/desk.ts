import {
  appointmentRecord,
  type Booking,
  type BusinessHours,
  bookWithFreshCode,
  type FeedbackRecord,
  type FlowContext,
  listOf,
  type SlotValues,
  type StepResult,
  speakDate,
  speakTime,
  spellCode,
} from '../../src/conversation/index.js';
import type { ResolvedOptions } from './options.js';
import type { bookingSlots } from './slots.js';

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

/** Retry with the day or the time cleared, saying why. */
export type Retry = { retry: 'date' | 'time'; say: string };
type Outcome<T> = Omit<StepResult<BookingSlots, string>, 'goto'> & T;

export function createDesk(o: ResolvedOptions, hours: BusinessHours) {
  const { store } = o;

  async function offerAlternatives(
    c: Ctx,
    date: string,
    time: string,
    lead: string,
  ): Promise<Retry & Outcome<object>> {
    const taken = await store.takenTimes(
      date,
      c.data.existing ? { exceptCode: c.data.existing.confirmationCode } : {},
    );
    const alternatives = hours.alternatives(date, time, taken, c.now, c.timeZone);
    c.data.alternatives = alternatives;
    if (alternatives.length > 0) {
      return {
        retry: 'time',
        clear: ['time'],
        say: `${lead} The closest times I have on ${speakDate(date)} are ${listOf(alternatives.map(speakTime), 'or')}.`,
      };
    }
    const next = hours.nextOpenDay(date, c.now, c.timeZone);
    return {
      retry: 'date',
      clear: ['date', 'time'],
      say: `${lead} We're fully booked on ${speakDate(date)}.${next ? ` The next day we're open is ${speakDate(next)}.` : ''}`,
    };
  }

  return {
    /** Business rules for the day and time together, then the calendar. */
    async availability(c: Ctx): Promise<{ free: true } | (Retry & Outcome<object>)> {
      const { date, time } = c.slots as BookingSlots;
      const dateProblem = hours.checkDate(date, c.now, c.timeZone);
      if (dateProblem) return { retry: 'date', say: dateProblem, clear: ['date'] };
      const timeProblem = hours.checkTime(time, date, c.now, c.timeZone);
      if (timeProblem) return { retry: 'time', say: timeProblem, clear: ['time'] };
      const taken = await store.takenTimes(
        date,
        c.data.existing ? { exceptCode: c.data.existing.confirmationCode } : {},
      );
      if (!taken.includes(time)) {
        c.data.alternatives = [];
        return { free: true };
      }
      return offerAlternatives(c, date, time, `Sorry, ${speakTime(time)} is already taken.`);
    },

    /** Books (or moves the existing booking to) the chosen slot. */
    async book(c: Ctx): Promise<Outcome<{ booked: true }> | (Retry & Outcome<object>)> {
      const s = c.slots as BookingSlots;
      const existing = c.data.existing;
      if (existing) {
        const r = await store.reschedule(existing.confirmationCode, s.date, s.time);
        if (r.ok) {
          return {
            booked: true,
            appointment: appointmentRecord(r.booking, 'rescheduled', {
              previous: { date: r.previous.date, time: r.previous.time },
            }),
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
            booked: true,
            appointment: appointmentRecord(r.booking, 'booked'),
            say: `You're all set for ${speakDate(s.date)} at ${speakTime(s.time)}. Your confirmation code is ${code}. Again, that's ${code}.`,
          };
        }
        if (r.reason !== 'taken') throw new Error('could not generate a unique confirmation code');
      }
      return offerAlternatives(c, s.date, s.time, 'Sorry, that time was just taken by another caller.');
    },

    /** Finds the booking named by the confirmation code. */
    async lookup(
      c: Ctx,
    ): Promise<
      { found: Booking; set: Partial<BookingSlots> } | { found: null; say: string; giveUp: boolean }
    > {
      const code = c.slots.confirmation_code ?? '';
      const b = await store.findByCode(code);
      if (b && b.status === 'confirmed') {
        c.data.existing = b;
        return {
          found: b,
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
      return { found: null, say: why, giveUp: c.data.lookupFailures >= 2 };
    },

    async cancel(c: Ctx): Promise<Outcome<{ cancelled: boolean }>> {
      const b = await store.cancel(c.data.existing?.confirmationCode ?? '');
      if (!b) return { cancelled: false, say: 'That booking was already cancelled.' };
      return {
        cancelled: true,
        appointment: appointmentRecord(b, 'cancelled'),
        say: `Your appointment on ${speakDate(b.date)} at ${speakTime(b.time)} is cancelled.`,
      };
    },

    feedback(rating: number | undefined): FeedbackRecord | undefined {
      if (rating === undefined) return undefined;
      return { rating, feedback_type: rating >= 4 ? 'positive' : rating <= 2 ? 'negative' : 'neutral' };
    },
  };
}
