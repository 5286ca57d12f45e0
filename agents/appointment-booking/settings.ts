import { z } from 'zod';
import { assertTimeZone, isValidIsoDate, WEEKDAYS } from '../../src/conversation/index.js';

/** What a route may configure for the booking flow (all optional: `{}` is the demo clinic). */

const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24-hour)');
const timeZone = z.string().refine(
  (tz) => {
    try {
      assertTimeZone(tz);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'unknown IANA time zone' },
);

export const hoursSchema = z.strictObject({
  hours: z.partialRecord(z.enum(WEEKDAYS), z.tuple([clockTime, clockTime])),
  slotMinutes: z.number().int().min(5).max(240),
  closedDates: z.array(z.string().refine(isValidIsoDate, 'must be YYYY-MM-DD')).optional(),
  maxDaysAhead: z.number().int().positive().optional(),
  minNoticeMinutes: z.number().int().nonnegative().optional(),
});

export const bookingSettings = z.strictObject({
  businessName: z.string().min(1).max(100).optional(),
  timeZone: timeZone.optional(),
  hours: hoursSchema.optional(),
  appointmentTypes: z.record(z.string().regex(/^[a-z_]+$/), z.array(z.string())).optional(),
  country: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be an ISO 3166 country code like US')
    .optional(),
  transferOnFallback: z.boolean().optional(),
});
export type BookingSettings = z.infer<typeof bookingSettings>;
