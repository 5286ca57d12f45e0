import { z } from 'zod';
import type { FlowRecordType, RecordRow } from '../../src/conversation/index.js';

/**
 * What a survey call records, written by the persister inside its transaction: each answer
 * (seed 003 call_responses) and each step of the survey call's status (survey_calls), each
 * with the seed's call_events row. Writers are idempotent by record id: the same batch again
 * (a retry, a journal replay) changes nothing.
 */

/** One answer to one question. */
export const surveyResponseData = z.strictObject({
  survey_call_id: z.uuid(),
  question_id: z.uuid(),
  question_text: z.string().min(1),
  response_text: z.string(),
  unclear: z.boolean(),
  follow_ups_asked: z.number().int().min(0),
  asked_at: z.iso.datetime({ offset: true }),
  responded_at: z.iso.datetime({ offset: true }),
  response_duration: z.number().int().min(0).max(60),
  confidence_score: z.number().min(0).max(1).nullable(),
  sentiment_score: z.number().min(-1).max(1).nullable(),
  ai_analysis: z.record(z.string(), z.unknown()).nullable(),
});
export type SurveyResponseData = z.infer<typeof surveyResponseData>;

/** A step of the survey call: its status, and the call event it is. */
export const surveyStatusData = z.strictObject({
  survey_call_id: z.uuid(),
  event: z.enum(['ai_connected', 'warning_sent', 'completed', 'timeout', 'failed']),
  status: z.enum(['in_progress', 'completed', 'timeout', 'failed']).optional(),
  reason: z.string().max(255).optional(),
});
export type SurveyStatusData = z.infer<typeof surveyStatusData>;

export class SurveyRecordError extends Error {}

// The survey call is the one the record names; the organization is the survey call's, which
// RLS (the event's organization) must match. A call event's id derives from the record's, so
// a replay inserts nothing twice.
const INSERT_RESPONSES = `
WITH rows AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, call_id uuid, survey_call_id uuid, question_id uuid,
    question_text text, response_text text, unclear boolean, follow_ups_asked int, asked_at timestamptz,
    responded_at timestamptz, response_duration int, confidence_score numeric, sentiment_score numeric,
    ai_analysis jsonb)
), inserted AS (
  INSERT INTO call_responses (id, organization_id, survey_call_id, question_id, question_text, response_text,
    response_duration, confidence_score, sentiment_score, asked_at, responded_at, ai_analysis)
  SELECT r.id, s.organization_id, s.id, q.id, r.question_text, r.response_text, r.response_duration,
         r.confidence_score, r.sentiment_score, r.asked_at, r.responded_at,
         COALESCE(r.ai_analysis, '{}'::jsonb) || jsonb_build_object('unclear', r.unclear, 'follow_ups_asked', r.follow_ups_asked)
    FROM rows r
    JOIN survey_calls s ON s.id = r.survey_call_id
    LEFT JOIN question_configurations q ON q.id = r.question_id
  ON CONFLICT (id) DO NOTHING
  RETURNING id
), events AS (
  INSERT INTO call_events (id, organization_id, conversation_id, event_type, event_data, source, occurred_at)
  SELECT md5(r.id::text || e.kind)::uuid, s.organization_id, c.id, e.kind,
         jsonb_build_object('question_id', r.question_id, 'response_id', r.id), e.source, e.at
    FROM rows r
    JOIN survey_calls s ON s.id = r.survey_call_id
    JOIN conversations c ON c.id = r.call_id
    CROSS JOIN LATERAL (VALUES ('question_asked', 'ai', r.asked_at),
                               ('response_received', 'customer', r.responded_at)) AS e(kind, source, at)
  ON CONFLICT (id) DO NOTHING
)
SELECT id FROM inserted`;

const EXISTING_RESPONSES = 'SELECT id FROM call_responses WHERE id = ANY($1::uuid[])';

async function writeResponses(
  client: Parameters<FlowRecordType['write']>[0],
  rows: RecordRow<SurveyResponseData>[],
) {
  const flat = rows.map(({ data, ...ids }) => ({ ...ids, ...data }));
  const inserted = await client.query<{ id: string }>(INSERT_RESPONSES, [JSON.stringify(flat)]);
  if (inserted.rowCount === rows.length) return;
  // A row neither written now nor before names no survey call this organization has: refuse
  // the batch (it goes to the dead-letter queue with this reason) rather than drop an answer.
  const written = new Set(inserted.rows.map((row) => row.id));
  const before = await client.query<{ id: string }>(EXISTING_RESPONSES, [rows.map((row) => row.id)]);
  for (const row of before.rows) written.add(row.id);
  const orphan = rows.find((row) => !written.has(row.id));
  if (orphan) {
    throw new SurveyRecordError(
      `survey_response of call ${orphan.call_id}: survey call ${orphan.data.survey_call_id} does not exist`,
    );
  }
}

// Moves the survey call forward only: a status it has passed already (a replayed record,
// rows out of order) leaves it as it is, so the database's transition guard never sees a
// step back. in_progress also links the call and marks when it was answered.
const ADVANCE = `
UPDATE survey_calls s
   SET conversation_id = COALESCE(s.conversation_id, $2::uuid),
       status = CASE WHEN s.status = 'initiated' AND $3 = 'in_progress' THEN 'connecting' ELSE s.status END
 WHERE s.id = $1 AND s.status = 'initiated' AND $3 = 'in_progress'`;
const SET_STATUS = `
UPDATE survey_calls s
   SET conversation_id = COALESCE(s.conversation_id, $2::uuid),
       status = $3,
       connected_at = CASE WHEN $3 = 'in_progress' THEN COALESCE(s.connected_at, $4::timestamptz) ELSE s.connected_at END,
       ended_at = CASE WHEN $3 <> 'in_progress' THEN COALESCE(s.ended_at, $4::timestamptz) ELSE s.ended_at END,
       duration_seconds = CASE WHEN $3 <> 'in_progress' AND s.connected_at IS NOT NULL
         THEN LEAST(120, GREATEST(0, round(extract(epoch FROM ($4::timestamptz - s.connected_at)))::int))
         ELSE s.duration_seconds END,
       end_reason = COALESCE($5, s.end_reason)
 WHERE s.id = $1
   AND ((s.status = 'connecting' AND $3 IN ('in_progress', 'failed'))
     OR (s.status = 'in_progress' AND $3 IN ('completed', 'timeout', 'failed')))`;
const STATUS_EVENT = `
INSERT INTO call_events (id, organization_id, conversation_id, event_type, event_data, source, occurred_at)
SELECT md5($1::text)::uuid, s.organization_id, c.id, $4, jsonb_build_object('survey_call_id', s.id, 'reason', $5::text),
       'ai', $6
  FROM survey_calls s JOIN conversations c ON c.id = $3
 WHERE s.id = $2
ON CONFLICT (id) DO NOTHING`;

async function writeStatuses(
  client: Parameters<FlowRecordType['write']>[0],
  rows: RecordRow<SurveyStatusData>[],
) {
  for (const row of rows) {
    const { survey_call_id: surveyCallId, status, event, reason } = row.data;
    const exists = await client.query('SELECT 1 FROM survey_calls WHERE id = $1', [surveyCallId]);
    if (!exists.rowCount) {
      throw new SurveyRecordError(
        `survey_status of call ${row.call_id}: survey call ${surveyCallId} does not exist`,
      );
    }
    if (status) {
      await client.query(ADVANCE, [surveyCallId, row.call_id, status]);
      await client.query(SET_STATUS, [surveyCallId, row.call_id, status, row.occurred_at, reason ?? null]);
    }
    // completed and failed are the call's own lifecycle events (the worker records them).
    if (event !== 'completed' && event !== 'failed') {
      await client.query(STATUS_EVENT, [
        row.id,
        surveyCallId,
        row.call_id,
        event,
        reason ?? null,
        row.occurred_at,
      ]);
    }
  }
}

export const surveyRecords = {
  survey_response: {
    schema: surveyResponseData,
    write: (client, rows: RecordRow<SurveyResponseData>[]) => writeResponses(client, rows),
  } satisfies FlowRecordType<SurveyResponseData>,
  survey_status: {
    schema: surveyStatusData,
    write: (client, rows: RecordRow<SurveyStatusData>[]) => writeStatuses(client, rows),
  } satisfies FlowRecordType<SurveyStatusData>,
} as const;
