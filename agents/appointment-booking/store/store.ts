import type { ClockTime, IsoDate } from '../../../src/conversation/clock.js';
import { generateCode } from '../../../src/conversation/extract/code.js';

/**
 * Where appointments live. Implementations must make double booking impossible: two calls
 * confirming the same slot at the same moment get one `ok` and one `taken`, whatever the
 * number of workers (the Postgres store relies on a unique partial index for that).
 */

export type BookingStatus = 'confirmed' | 'cancelled' | 'completed';

export interface Booking {
  id: string;
  organizationId: string;
  conversationId: string | null;
  userName: string | null;
  date: IsoDate;
  time: ClockTime;
  type: string | null;
  contact: string | null;
  status: BookingStatus;
  confirmationCode: string;
}

export interface NewBooking {
  /** The call that made the booking (conversations.id). */
  conversationId?: string;
  userName?: string;
  date: IsoDate;
  time: ClockTime;
  type?: string;
  contact?: string;
  confirmationCode: string;
  metadata?: Record<string, unknown>;
}

export type BookResult = { ok: true; booking: Booking } | { ok: false; reason: 'taken' | 'duplicate_code' };
export type RescheduleResult =
  | { ok: true; booking: Booking; previous: Booking }
  | { ok: false; reason: 'taken' | 'not_found' };

export interface BookingStore {
  /** Start times of confirmed appointments on `date`, except the one with `exceptCode`. */
  takenTimes(date: IsoDate, options?: { exceptCode?: string }): Promise<ClockTime[]>;
  book(request: NewBooking): Promise<BookResult>;
  /** Any status; null when unknown. */
  findByCode(code: string): Promise<Booking | null>;
  /** Moves a confirmed booking; `taken` if the new slot is someone else's. */
  reschedule(code: string, date: IsoDate, time: ClockTime): Promise<RescheduleResult>;
  /** Cancels a confirmed booking; null if there is none with that code. */
  cancel(code: string): Promise<Booking | null>;
}

/** Books with a fresh confirmation code, retrying the rare code collision. */
export async function bookWithFreshCode(
  store: BookingStore,
  request: Omit<NewBooking, 'confirmationCode'>,
  random: () => number,
  attempts = 5,
): Promise<BookResult> {
  let result: BookResult = { ok: false, reason: 'duplicate_code' };
  for (let i = 0; i < attempts; i++) {
    result = await store.book({ ...request, confirmationCode: generateCode(random) });
    if (result.ok || result.reason !== 'duplicate_code') return result;
  }
  return result;
}
