import { z } from 'zod';
import type { FlowRecord, FlowRecordType, RecordRow } from '../../src/conversation/index.js';
import type { Booking } from './store/store.js';

/**
 * The booking flow's records: `appointment` (every booking change, row id = the booking's, so
 * a reschedule or cancellation updates the same row) and `feedback` (the caller's rating).
 * The persister writes them through these writers inside its batch transaction.
 */

const json = z.record(z.string(), z.unknown());

export const appointmentData = z.strictObject({
  user_name: z.string().max(255).optional(),
  appointment_date: z.iso.date(),
  appointment_time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24-hour)'),
  appointment_type: z.string().max(100).optional(),
  contact_info: z.string().max(255).optional(),
  status: z.enum(['confirmed', 'cancelled', 'completed']),
  confirmation_code: z.string().min(1).max(50),
  metadata: json.optional(),
});
export type AppointmentData = z.infer<typeof appointmentData>;

export const feedbackData = z.strictObject({
  rating: z.number().int().min(1).max(5),
  feedback_text: z.string().optional(),
  feedback_type: z.enum(['positive', 'negative', 'neutral']).optional(),
  metadata: json.optional(),
});
export type FeedbackData = z.infer<typeof feedbackData>;

export type BookingAction = 'booked' | 'rescheduled' | 'cancelled';

/** A booking change as the flow reports it (the action goes into the row's metadata). */
export function appointmentRecord(
  b: Booking,
  action: BookingAction,
  metadata?: Record<string, unknown>,
): FlowRecord {
  const data: AppointmentData = {
    ...(b.userName ? { user_name: b.userName } : {}),
    appointment_date: b.date,
    appointment_time: b.time,
    ...(b.type ? { appointment_type: b.type } : {}),
    ...(b.contact ? { contact_info: b.contact } : {}),
    status: b.status,
    confirmation_code: b.confirmationCode,
    metadata: { ...metadata, action },
  };
  return { type: 'appointment', id: b.id, data };
}

export function feedbackRecord(rating: number): FlowRecord {
  const data: FeedbackData = {
    rating,
    feedback_type: rating >= 4 ? 'positive' : rating <= 2 ? 'negative' : 'neutral',
  };
  return { type: 'feedback', data };
}

const flat = <T extends object>(rows: RecordRow<T>[]) =>
  JSON.stringify(rows.map(({ data, ...ids }) => ({ ...ids, ...data })));

// Organization of a row: the event's own, else its conversation's.
const ORG = 'COALESCE(r.organization_id, c.organization_id)';
const JOIN_CONV = 'LEFT JOIN conversations c ON c.id = r.call_id';

// Rows written directly by the booking store (event_updated_at NULL) are authoritative and
// never overwritten; rows created from events follow the latest event (by occurred_at).
// A clash with appointments_no_double_booking or a duplicate confirmation code raises 23505,
// which sends this one event to the dead-letter queue with that reason.
const UPSERT_APPOINTMENTS = `
INSERT INTO appointments AS a (id, organization_id, conversation_id, user_name, appointment_date,
  appointment_time, appointment_type, contact_info, status, confirmation_code, metadata,
  event_updated_at, created_at)
SELECT r.id, ${ORG}, r.call_id, r.user_name, r.appointment_date, r.appointment_time,
  r.appointment_type, r.contact_info, r.status, r.confirmation_code, r.metadata, r.occurred_at,
  r.occurred_at
FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, organization_id uuid, call_id uuid, user_name text,
  appointment_date date, appointment_time time, appointment_type text, contact_info text, status text,
  confirmation_code text, metadata jsonb, occurred_at timestamptz)
${JOIN_CONV}
ORDER BY r.id
ON CONFLICT (id) DO UPDATE SET
  user_name = EXCLUDED.user_name, appointment_date = EXCLUDED.appointment_date,
  appointment_time = EXCLUDED.appointment_time, appointment_type = EXCLUDED.appointment_type,
  contact_info = EXCLUDED.contact_info, status = EXCLUDED.status,
  confirmation_code = EXCLUDED.confirmation_code, metadata = EXCLUDED.metadata,
  event_updated_at = EXCLUDED.event_updated_at
WHERE a.event_updated_at IS NOT NULL AND a.event_updated_at < EXCLUDED.event_updated_at`;

const INSERT_FEEDBACK = `
INSERT INTO user_feedback (id, organization_id, conversation_id, rating, feedback_text, feedback_type,
  metadata, created_at)
SELECT r.id, ${ORG}, r.call_id, r.rating, r.feedback_text, r.feedback_type, r.metadata, r.occurred_at
FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, organization_id uuid, call_id uuid, rating int,
  feedback_text text, feedback_type text, metadata jsonb, occurred_at timestamptz)
${JOIN_CONV}
ON CONFLICT (id) DO NOTHING`;

export const bookingRecords = {
  appointment: {
    schema: appointmentData,
    write: async (client, rows: RecordRow<AppointmentData>[], context) => {
      // The caller's contact (often their phone number) is stored sealed, like the booking store's.
      const sealed = rows.map((r) =>
        r.data.contact_info
          ? { ...r, data: { ...r.data, contact_info: context.seal(r.data.contact_info) } }
          : r,
      );
      await client.query(UPSERT_APPOINTMENTS, [flat(sealed)]);
    },
  } satisfies FlowRecordType<AppointmentData>,
  feedback: {
    schema: feedbackData,
    write: async (client, rows: RecordRow<FeedbackData>[]) => {
      await client.query(INSERT_FEEDBACK, [flat(rows)]);
    },
  } satisfies FlowRecordType<FeedbackData>,
} as const;
