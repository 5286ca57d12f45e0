import { parsePhoneNumberWithError } from 'libphonenumber-js';
import type pg from 'pg';
import { type QuestionSelection, SELECTION_ALGORITHM, selectQuestions } from '../selection.js';
import { loadBusinessQuestions } from './questions.js';

/** Seals and hashes the customer's number (the deployment's PII key ring). */
export interface PhoneSealer {
  sealText(text: string): string;
  hash(plain: string): Buffer;
}

export interface SurveyVisit {
  verificationId: string;
  customerPhone: string;
  /** YYYY-MM-DD in the business's zone: which questions are in their active window. */
  date: string;
  budgetSeconds?: number;
}

export interface OpenedSurveyCall {
  id: string;
  customerCount: number;
  selection: Pick<QuestionSelection, 'selected' | 'estimated_duration' | 'time_budget_seconds' | 'algorithm'>;
  /** False when this verification already had its survey call (the job ran twice). */
  created: boolean;
}

export class SurveyPhoneError extends Error {}

/** The customer's number in E.164, refused unless it is a valid Swedish number (seed 003). */
export function swedishPhoneNumber(raw: string): string {
  try {
    const parsed = parsePhoneNumberWithError(raw, 'SE');
    if (parsed.country === 'SE' && parsed.isValid()) return parsed.number;
  } catch {
    // Falls through to the one error below: the reason matters less than the rule.
  }
  throw new SurveyPhoneError('the customer phone number must be a valid Swedish number (+46…)');
}

/**
 * Opens the survey call for one verified visit, in the caller's transaction scoped to the
 * business: counts the customer, selects the questions, stores the call as `initiated` and
 * logs the selection. A verification seen before returns its call unchanged (and does not
 * count the customer twice).
 */
export async function openSurveyCall(
  client: pg.ClientBase,
  organizationId: string,
  visit: SurveyVisit,
  sealer: PhoneSealer,
): Promise<OpenedSurveyCall> {
  const phone = swedishPhoneNumber(visit.customerPhone);
  const existing = await client.query<{ id: string; customer_count: number }>(
    'SELECT id, customer_count FROM survey_calls WHERE verification_id = $1',
    [visit.verificationId],
  );
  if (existing.rows[0]) {
    const log = await client.query(
      `SELECT selected_questions AS selected, estimated_duration, time_budget_seconds, selection_algorithm AS algorithm
         FROM question_selection_logs WHERE survey_call_id = $1 ORDER BY created_at DESC LIMIT 1`,
      [existing.rows[0].id],
    );
    return {
      id: existing.rows[0].id,
      customerCount: existing.rows[0].customer_count,
      selection: log.rows[0] ?? {
        selected: [],
        estimated_duration: 0,
        time_budget_seconds: 0,
        algorithm: SELECTION_ALGORITHM,
      },
      created: false,
    };
  }
  const counted = await client.query<{ customer_count: number }>(
    `INSERT INTO survey_customer_counters (organization_id, customer_count) VALUES ($1, 1)
     ON CONFLICT (organization_id) DO UPDATE
       SET customer_count = survey_customer_counters.customer_count + 1, updated_at = NOW()
     RETURNING customer_count`,
    [organizationId],
  );
  const customerCount = counted.rows[0]!.customer_count;
  const selection = selectQuestions(await loadBusinessQuestions(client), {
    customerCount,
    budgetSeconds: visit.budgetSeconds,
    date: visit.date,
  });
  const inserted = await client.query<{ id: string }>(
    `INSERT INTO survey_calls (organization_id, verification_id, customer_phone, customer_phone_hash, customer_count)
     VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [organizationId, visit.verificationId, sealer.sealText(phone), sealer.hash(phone), customerCount],
  );
  const id = inserted.rows[0]!.id;
  await client.query(
    `INSERT INTO question_selection_logs (organization_id, survey_call_id, customer_count, selected_questions,
       selection_algorithm, selection_criteria, time_budget_seconds, estimated_duration)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      organizationId,
      id,
      customerCount,
      JSON.stringify(selection.selected),
      selection.algorithm,
      JSON.stringify({ ...selection.criteria, skipped: selection.skipped }),
      selection.time_budget_seconds,
      selection.estimated_duration,
    ],
  );
  const { criteria: _criteria, skipped: _skipped, ...summary } = selection;
  return { id, customerCount, selection: summary, created: true };
}
