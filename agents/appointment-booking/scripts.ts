import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { FlowScripts } from '../../src/conversation/index.js';
import { isValidIsoDate } from '../../src/conversation/index.js';
import type { BookingResources } from './resources.js';
import { FakeBookingStore } from './store/fake-store.js';

/**
 * The booking flow's caller scripts (./calls/*.yaml): `setup: { bookings: [...] }` seeds the
 * calendar the call meets; `expect: { appointment: true }` says whether the call must leave an
 * appointment record (booked, rescheduled or cancelled).
 */

const seedBooking = z.strictObject({
  date: z.string().refine(isValidIsoDate, 'must be YYYY-MM-DD'),
  time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/),
  confirmation_code: z.string().min(1),
  user_name: z.string().optional(),
  appointment_type: z.string().optional(),
  contact_info: z.string().optional(),
});

const setup = z.strictObject({ bookings: z.array(seedBooking).default([]) });
const expectations = z.strictObject({ appointment: z.boolean() });

export const bookingScripts: FlowScripts<BookingResources> = {
  dir: fileURLToPath(new URL('./calls/', import.meta.url)),
  setup,
  expectations,
  offline(raw) {
    const store = new FakeBookingStore();
    for (const b of setup.parse(raw ?? {}).bookings) {
      store.seed({
        date: b.date,
        time: b.time,
        confirmationCode: b.confirmation_code,
        userName: b.user_name ?? null,
        type: b.appointment_type ?? null,
        contact: b.contact_info ?? null,
      });
    }
    return { store };
  },
  check(raw, records) {
    const expected = expectations.parse(raw);
    const booked = records.some((r) => r.type === 'appointment');
    return booked === expected.appointment ? [] : [`appointment ${booked}, expected ${expected.appointment}`];
  },
};
