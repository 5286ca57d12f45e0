import { z } from 'zod';
import type { FlowRecordType, RecordRow } from '../../../src/conversation/index.js';

/** One callback request: who to call back and on which day. */
export const callbackRequestData = z.strictObject({
  caller_name: z.string().min(2).max(100),
  callback_day: z.iso.date(),
});
export type CallbackRequestData = z.infer<typeof callbackRequestData>;

// Idempotent by row id (the record id); the organization is the event's, else the call's.
const INSERT = `
INSERT INTO callback_requests (id, organization_id, conversation_id, caller_name, callback_day, created_at)
SELECT r.id, COALESCE(r.organization_id, c.organization_id), r.call_id, r.caller_name, r.callback_day, r.occurred_at
FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, organization_id uuid, call_id uuid, caller_name text,
  callback_day date, occurred_at timestamptz)
LEFT JOIN conversations c ON c.id = r.call_id
ON CONFLICT (id) DO NOTHING`;

export const callbackRecords = {
  callback_request: {
    schema: callbackRequestData,
    write: async (client, rows: RecordRow<CallbackRequestData>[]) => {
      const flat = rows.map(({ data, ...ids }) => ({ ...ids, ...data }));
      await client.query(INSERT, [JSON.stringify(flat)]);
    },
  } satisfies FlowRecordType<CallbackRequestData>,
} as const;
