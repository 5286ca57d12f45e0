import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { defineFlowPackage, domainLanguage } from '../../src/conversation/index.js';
import { surveyCommands } from './commands.js';
import { surveyDemo } from './demo.js';
import { createFeedbackSurveyFlow } from './flow.js';
import { surveyRecords } from './records.js';
import { type SurveySettings, surveySettings } from './settings.js';

const expectations = z.strictObject({
  /** How many answers the call records. */
  responses: z.number().int().nonnegative().optional(),
  /** The survey call's last status. */
  status: z.enum(['in_progress', 'completed', 'timeout', 'failed']).optional(),
});

/** Outbound feedback surveys after a verified visit (seed 003). */
export const feedbackSurvey = defineFlowPackage<SurveySettings, Record<string, never>>({
  name: 'feedback-survey',
  description: "Calls a business's customer after a visit and asks the questions selected for them.",
  settings: surveySettings,
  // The call needs nothing opened: its plan comes with the dispatch, its answers are records.
  resources: { open: () => ({}), close: () => {} },
  createFlow: ({ settings, defaultTimeZone }) =>
    createFeedbackSurveyFlow({
      ...settings,
      ...(settings.timeZone || defaultTimeZone ? { timeZone: settings.timeZone ?? defaultTimeZone } : {}),
    }),
  spokenLanguage: (settings) => settings.language,
  migrations: fileURLToPath(new URL('./migrations/', import.meta.url)),
  records: surveyRecords,
  vocabulary: domainLanguage,
  scripts: {
    dir: fileURLToPath(new URL('./calls/', import.meta.url)),
    setup: z.undefined(),
    offline: () => ({}),
    expectations,
    check(raw, records) {
      const want = expectations.parse(raw);
      const failures: string[] = [];
      const answers = records.filter((r) => r.type === 'survey_response').length;
      if (want.responses !== undefined && answers !== want.responses)
        failures.push(`${answers} responses recorded, expected ${want.responses}`);
      const last = records.filter((r) => r.type === 'survey_status' && r.data.status).at(-1);
      if (want.status !== undefined && last?.data.status !== want.status)
        failures.push(`survey status ${String(last?.data.status)}, expected ${want.status}`);
      return failures;
    },
  },
  commands: surveyCommands,
  demo: surveyDemo,
  personalData: [
    {
      // Answers and the selection go with the survey call (ON DELETE CASCADE).
      table: 'survey_calls',
      conversationColumn: 'conversation_id',
      hashColumn: 'customer_phone_hash',
      sealed: [{ column: 'customer_phone', kind: 'text' }],
      erase: 'delete',
    },
  ],
  // Seed 003's retention; call events are archived with their conversation (RETENTION_DAYS,
  // 90) and telephony provider logs purged after 30 days by the platform.
  retention: [
    {
      name: 'failed survey calls deleted after 7 days',
      statement: `DELETE FROM survey_calls WHERE status = 'failed' AND created_at < $1::timestamptz - interval '7 days'`,
    },
    {
      name: 'survey recordings dropped after 30 days',
      statement: `UPDATE survey_calls SET recording_url = NULL
                   WHERE recording_url IS NOT NULL AND created_at < $1::timestamptz - interval '30 days'`,
    },
    {
      // What stays for statistics (answers, scores, the selection) names nobody.
      name: 'survey calls anonymized after 90 days',
      statement: `UPDATE survey_calls SET transcript = NULL, customer_phone = '', customer_phone_hash = ''::bytea
                   WHERE created_at < $1::timestamptz - interval '90 days'
                     AND (customer_phone <> '' OR transcript IS NOT NULL)`,
    },
  ],
});

export default feedbackSurvey;
