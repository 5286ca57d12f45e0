import { z } from 'zod';
import type { FlowRecordType, RecordRow } from '../../src/conversation/index.js';

/**
 * What a reminder call records, written by the persister in its transaction, idempotent by
 * record id: the outcome moves the task on, becomes the call's contact attempt and counts once
 * in the campaign's results; an opt-out is the customer's at once (phone, until revoked).
 */

const OUTCOMES = [
  'promised',
  'pay_now',
  'disputed',
  'opted_out',
  'wrong_party',
  'not_verified',
  'human_requested',
  'account_not_found',
] as const;

export const reminderOutcomeData = z.strictObject({
  customer_id: z.uuid(),
  payment_record_id: z.uuid(),
  task_id: z.uuid().optional(),
  campaign_id: z.uuid().optional(),
  outcome: z.enum(OUTCOMES),
  verified: z.boolean(),
  promise_date: z.iso.date().optional(),
});
export type ReminderOutcomeData = z.infer<typeof reminderOutcomeData>;

export const optOutData = z.strictObject({
  customer_id: z.uuid(),
  channel: z.enum(['phone', 'sms', 'email', 'all']),
  reason: z.string().max(500),
});
export type OptOutData = z.infer<typeof optOutData>;

type Client = Parameters<FlowRecordType['write']>[0];

// The attempt's id is the record's: a replayed record inserts nothing and counts nothing again.
const OUTCOME = `
WITH attempt AS (
  INSERT INTO contact_attempts (id, organization_id, task_id, customer_id, campaign_id, conversation_id,
    channel, status, "timestamp", response, metadata)
  SELECT $1, c.organization_id, $3, $4, $5, $2, 'phone', 'answered', $6, $7,
         jsonb_strip_nulls(jsonb_build_object('promise_date', $8::text, 'verified', $9::boolean))
    FROM customers c WHERE c.id = $4
  ON CONFLICT (id) DO NOTHING
  RETURNING id
), task AS (
  UPDATE tasks SET status = 'completed', completed_at = $6,
         context = context || jsonb_strip_nulls(jsonb_build_object('outcome', $7::text, 'promise_date', $8::text,
           'conversation_id', $2::text))
   WHERE id = $3 AND EXISTS (SELECT 1 FROM attempt)
  RETURNING id
)
UPDATE campaigns SET results = results || jsonb_build_object($7::text, COALESCE((results->>$7)::int, 0) + 1)
 WHERE id = $5 AND EXISTS (SELECT 1 FROM attempt)`;

async function writeOutcomes(client: Client, rows: RecordRow<ReminderOutcomeData>[]) {
  for (const row of rows) {
    const d = row.data;
    const known = await client.query('SELECT 1 FROM customers WHERE id = $1', [d.customer_id]);
    if (!known.rowCount)
      throw new Error(`reminder_outcome of call ${row.call_id}: no customer ${d.customer_id}`);
    await client.query(OUTCOME, [
      row.id,
      row.call_id,
      d.task_id ?? null,
      d.customer_id,
      d.campaign_id ?? null,
      row.occurred_at,
      d.outcome,
      d.promise_date ?? null,
      d.verified,
    ]);
  }
}

// Asked on a call: for good, whatever a temporary opt-out said before.
const OPT_OUT = `
INSERT INTO opt_outs (organization_id, customer_id, channel, reason, opted_out_at, expires_at, metadata)
SELECT c.organization_id, $1, $2, $3, $4, NULL, jsonb_build_object('conversation_id', $5::text)
  FROM customers c WHERE c.id = $1
ON CONFLICT (customer_id, channel) DO UPDATE SET expires_at = NULL, reason = EXCLUDED.reason,
  opted_out_at = LEAST(opt_outs.opted_out_at, EXCLUDED.opted_out_at), metadata = EXCLUDED.metadata`;

async function writeOptOuts(client: Client, rows: RecordRow<OptOutData>[]) {
  for (const row of rows) {
    const inserted = await client.query(OPT_OUT, [
      row.data.customer_id,
      row.data.channel,
      row.data.reason,
      row.occurred_at,
      row.call_id,
    ]);
    if (!inserted.rowCount)
      throw new Error(`opt_out of call ${row.call_id}: no customer ${row.data.customer_id}`);
  }
}

export const reminderRecords = {
  reminder_outcome: {
    schema: reminderOutcomeData,
    write: (client, rows: RecordRow<ReminderOutcomeData>[]) => writeOutcomes(client, rows),
  } satisfies FlowRecordType<ReminderOutcomeData>,
  opt_out: {
    schema: optOutData,
    write: (client, rows: RecordRow<OptOutData>[]) => writeOptOuts(client, rows),
  } satisfies FlowRecordType<OptOutData>,
} as const;
