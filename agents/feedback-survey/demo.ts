import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { FlowDemo } from '../../src/conversation/index.js';
import { DEFAULT_ORGANIZATION_ID } from '../../src/events/model.js';

const SCRIPT = fileURLToPath(new URL('./calls/all-answered.yaml', import.meta.url));

/** The survey call the demo script answers (its `settings.surveyCallId`). */
function demoSurveyCallId(): string {
  const script = parse(readFileSync(SCRIPT, 'utf8')) as { settings?: { surveyCallId?: string } };
  const id = script.settings?.surveyCallId;
  if (!id) throw new Error(`${SCRIPT} names no settings.surveyCallId`);
  return id;
}

/**
 * `npm run demo -- --caller agents/feedback-survey/calls/all-answered.yaml` (or FLOW=
 * feedback-survey): a customer who agrees and answers the two English demo questions. The
 * demo's survey call stands in for one `survey call` would open (no number: the demo caller
 * joins the room, nobody is dialled); each run starts it afresh.
 */
export const surveyDemo: FlowDemo = {
  script: SCRIPT,
  tables: ['survey_calls'],
  async prepare(db) {
    const id = demoSurveyCallId();
    // Deleting cascades to its answers and selection log.
    await db.query('DELETE FROM survey_calls WHERE id = $1', [id]);
    await db.query(
      `INSERT INTO survey_calls (id, organization_id, verification_id, customer_phone, customer_phone_hash, customer_count)
       VALUES ($1, $2, $1, '', ''::bytea, 1)`,
      [id, DEFAULT_ORGANIZATION_ID],
    );
    return [`survey call ${id} opened for the demo customer`];
  },
  async report(db, callId) {
    const survey = await db.query(
      'SELECT id, status, end_reason, duration_seconds FROM survey_calls WHERE conversation_id = $1',
      [callId],
    );
    const lines = survey.rows.map(
      (row) =>
        `survey call ${row.id}: ${row.status}${row.end_reason ? ` (${row.end_reason})` : ''}, ${row.duration_seconds ?? '?'} s`,
    );
    const answers = await db.query(
      `SELECT r.question_text, r.response_text, r.sentiment_score::float AS sentiment, r.confidence_score::float AS confidence
         FROM call_responses r JOIN survey_calls s ON s.id = r.survey_call_id
        WHERE s.conversation_id = $1 ORDER BY r.asked_at`,
      [callId],
    );
    for (const answer of answers.rows) {
      const scores = `sentiment ${answer.sentiment ?? '-'}, confidence ${answer.confidence ?? '-'}`;
      lines.push(`answer to "${answer.question_text}": "${answer.response_text}" (${scores})`);
    }
    return lines;
  },
};
