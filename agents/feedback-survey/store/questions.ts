import type pg from 'pg';
import { parseQuestions, type QuestionConfiguration } from '../questions.js';

/**
 * A business's questions as question_configurations holds them, with when each was last asked
 * (from call_responses) so selection can prefer the longest-waiting. The client must be scoped
 * to the business (withOrganization): row-level security decides whose questions these are.
 */
export async function loadBusinessQuestions(client: pg.ClientBase): Promise<QuestionConfiguration[]> {
  const { rows } = await client.query(
    `SELECT q.id, q.organization_id AS business_id, q.question_text, q.frequency, q.priority,
            q.department_tags, to_char(q.active_from, 'YYYY-MM-DD') AS active_from,
            to_char(q.active_until, 'YYYY-MM-DD') AS active_until, q.is_active, q.max_response_time,
            q.follow_up_prompts, q.created_at,
            (SELECT max(r.asked_at) FROM call_responses r WHERE r.question_id = q.id) AS last_asked_at
       FROM question_configurations q
      ORDER BY q.created_at, q.id`,
  );
  if (!rows.length) return [];
  return parseQuestions(
    rows.map((row) => ({
      ...row,
      created_at: (row.created_at as Date).toISOString(),
      last_asked_at: row.last_asked_at ? (row.last_asked_at as Date).toISOString() : null,
    })),
  );
}
