import { z } from 'zod';
import { CHANNELS } from './rules.js';

/**
 * What the compliance check knows about one customer, in seed 004's field names
 * (customer_profiles, opt_outs, contact_attempts): their zone, do-not-contact flag,
 * preferred window and channels to avoid, their opt-outs and prior contact attempts.
 */

const instant = z.iso.datetime({ offset: true });
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/, 'must be HH:MM');

export const contactSchema = z.strictObject({
  customer_id: z.string().optional(),
  timezone: z.string().min(1).nullable().optional(),
  do_not_contact: z.boolean().default(false),
  preferred_contact_time_start: clockTime.nullable().optional(),
  preferred_contact_time_end: clockTime.nullable().optional(),
  /** Channels to avoid (customer_profiles.contact_restrictions). */
  contact_restrictions: z.array(z.enum(CHANNELS)).default([]),
  opt_outs: z
    .array(
      z.strictObject({
        channel: z.enum([...CHANNELS, 'all']),
        reason: z.string().nullable().optional(),
        opted_out_at: instant,
        /** A temporary opt-out ends here; none: for good. */
        expires_at: instant.nullable().optional(),
      }),
    )
    .default([]),
  contact_attempts: z
    .array(
      z.strictObject({
        channel: z.enum(CHANNELS),
        status: z.string().min(1),
        timestamp: instant,
      }),
    )
    .default([]),
});

export type ComplianceContact = z.infer<typeof contactSchema>;
