import type pg from 'pg';
import { type CallingHours, DEFAULT_CALLING_HOURS } from '../calling-hours.js';
import type { SurveyLanguage } from '../phrases.js';
import type { SurveySettings } from '../settings.js';

/** A business's survey settings (survey_business_settings, defaults without a row). */
export interface BusinessSurveySettings {
  businessName: string;
  hours: CallingHours;
  budgetSeconds: number;
}

const time = (value: string) => value.slice(0, 5);

/** The business's settings, in a transaction scoped to it (RLS). */
export async function loadBusinessSettings(client: pg.ClientBase): Promise<BusinessSurveySettings> {
  const org = await client.query<{ name: string }>(
    `SELECT name FROM organizations WHERE id = current_organization_id()`,
  );
  const row = await client.query<{
    business_name: string | null;
    time_zone: string;
    calling_days: number[];
    calling_from: string;
    calling_until: string;
    time_budget_seconds: number;
  }>('SELECT * FROM survey_business_settings');
  const settings = row.rows[0];
  const businessName = settings?.business_name ?? org.rows[0]?.name ?? 'our business';
  if (!settings) return { businessName, hours: DEFAULT_CALLING_HOURS, budgetSeconds: 90 };
  return {
    businessName,
    hours: {
      timeZone: settings.time_zone,
      days: settings.calling_days.map(Number),
      from: time(settings.calling_from),
      until: time(settings.calling_until),
    },
    budgetSeconds: settings.time_budget_seconds,
  };
}

/**
 * What the call says: the selected questions in selection order, with their follow-ups, in
 * the questions' language (a business writes its questions in one).
 */
export async function surveyCallPlan(
  client: pg.ClientBase,
  surveyCallId: string,
  selected: readonly string[],
  business: BusinessSurveySettings,
): Promise<SurveySettings> {
  const rows = await client.query<{
    id: string;
    question_text: string;
    follow_up_prompts: string[] | null;
    language: SurveyLanguage;
  }>(
    'SELECT id, question_text, follow_up_prompts, language FROM question_configurations WHERE id = ANY($1::uuid[])',
    [selected],
  );
  const byId = new Map(rows.rows.map((row) => [row.id, row]));
  const questions = selected.flatMap((id) => {
    const row = byId.get(id);
    return row
      ? [{ id, text: row.question_text.trim(), followUps: (row.follow_up_prompts ?? []).map(String) }]
      : [];
  });
  return {
    surveyCallId,
    businessName: business.businessName,
    language: rows.rows[0]?.language ?? 'en-US',
    questions,
    limitSeconds: 120,
    warnBeforeSeconds: 15,
    timeZone: business.hours.timeZone,
  };
}

export type SurveyCallState = 'initiated' | 'connecting' | 'in_progress' | 'completed' | 'failed' | 'timeout';

export async function surveyCallStatus(
  client: pg.ClientBase,
  surveyCallId: string,
): Promise<SurveyCallState> {
  const row = await client.query<{ status: SurveyCallState }>(
    'SELECT status FROM survey_calls WHERE id = $1',
    [surveyCallId],
  );
  if (!row.rows[0]) throw new Error(`survey call ${surveyCallId} does not exist`);
  return row.rows[0].status;
}

/** The dialler takes the call: initiated → connecting, before anything is dialled. */
export async function markConnecting(client: pg.ClientBase, surveyCallId: string): Promise<void> {
  await client.query(`UPDATE survey_calls SET status = 'connecting' WHERE id = $1 AND status = 'initiated'`, [
    surveyCallId,
  ]);
}

/** The room the call was placed in: where its conversation (and provider logs) are found. */
export async function recordRoom(client: pg.ClientBase, surveyCallId: string, room: string): Promise<void> {
  await client.query(
    'UPDATE survey_calls SET telephony_call_id = $2 WHERE id = $1 AND telephony_call_id IS NULL',
    [surveyCallId, room],
  );
}

/**
 * A call that ended without the survey ending it (not answered, hung up, refused): failed,
 * with the call's reason. A survey the call already finished keeps its status.
 */
export async function markUnfinished(
  client: pg.ClientBase,
  surveyCallId: string,
  ended: { conversationId?: string | null; reason: string },
): Promise<void> {
  await client.query(
    `UPDATE survey_calls
        SET conversation_id = COALESCE(conversation_id, $2::uuid),
            status = 'failed', ended_at = COALESCE(ended_at, NOW()), end_reason = COALESCE(end_reason, $3)
      WHERE id = $1 AND status IN ('initiated', 'connecting', 'in_progress')`,
    [surveyCallId, ended.conversationId ?? null, ended.reason.slice(0, 255)],
  );
}
