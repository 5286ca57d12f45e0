import { z } from 'zod';
import type { FlowRecordType, RecordRow } from '../../src/conversation/index.js';

/** One answer to one question, as the survey flow records it (seed 003 call_responses). */
export const surveyResponseData = z.strictObject({
  question_id: z.uuid(),
  question_text: z.string().min(1),
  response_text: z.string(),
  unclear: z.boolean(),
  follow_ups_asked: z.number().int().min(0),
  asked_at: z.iso.datetime({ offset: true }),
  responded_at: z.iso.datetime({ offset: true }),
  response_duration: z.number().int().min(0).max(60),
  sentiment_score: z.number().min(-1).max(1).nullable(),
  ai_analysis: z.record(z.string(), z.unknown()).nullable(),
});
export type SurveyResponseData = z.infer<typeof surveyResponseData>;

export class SurveyRecordError extends Error {}

// Idempotent by row id. The survey call is found by the call's conversation; the
// organization is the survey call's, which RLS and the event's own organization must match.
const INSERT = `
WITH rows AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, call_id uuid, question_id uuid, question_text text,
    response_text text, unclear boolean, follow_ups_asked int, asked_at timestamptz, responded_at timestamptz,
    response_duration int, sentiment_score numeric, ai_analysis jsonb)
)
INSERT INTO call_responses (id, organization_id, survey_call_id, question_id, question_text, response_text,
  response_duration, sentiment_score, asked_at, responded_at, ai_analysis)
SELECT r.id, s.organization_id, s.id, q.id, r.question_text, r.response_text, r.response_duration,
       r.sentiment_score, r.asked_at, r.responded_at,
       COALESCE(r.ai_analysis, '{}'::jsonb) || jsonb_build_object('unclear', r.unclear, 'follow_ups_asked', r.follow_ups_asked)
  FROM rows r
  JOIN survey_calls s ON s.conversation_id = r.call_id
  LEFT JOIN question_configurations q ON q.id = r.question_id
ON CONFLICT (id) DO NOTHING
RETURNING id`;

const EXISTING = 'SELECT id FROM call_responses WHERE id = ANY($1::uuid[])';

export const surveyRecords = {
  survey_response: {
    schema: surveyResponseData,
    write: async (client, rows: RecordRow<SurveyResponseData>[]) => {
      const flat = rows.map(({ data, ...ids }) => ({ ...ids, ...data }));
      const inserted = await client.query<{ id: string }>(INSERT, [JSON.stringify(flat)]);
      if (inserted.rowCount === rows.length) return;
      // A row neither written now nor before has no survey call: refuse the batch (it goes to
      // the dead-letter queue with this reason) rather than drop an answer.
      const written = new Set(inserted.rows.map((row) => row.id));
      const before = await client.query<{ id: string }>(EXISTING, [rows.map((row) => row.id)]);
      for (const row of before.rows) written.add(row.id);
      const orphans = rows.filter((row) => !written.has(row.id));
      if (orphans.length) {
        throw new SurveyRecordError(
          `survey_response for call ${orphans[0]!.call_id}: no survey call is linked to this conversation`,
        );
      }
    },
  } satisfies FlowRecordType<SurveyResponseData>,
} as const;
