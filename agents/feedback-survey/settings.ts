import { z } from 'zod';
import { surveyLanguages } from './phrases.js';

/**
 * What one survey call runs: the business, its language and the questions selected for this
 * customer. `survey call` (and the survey queue) builds it from the database and sends it
 * with the dispatch, signed, so the worker needs no lookup before it speaks. `{}` is the
 * development default: two English questions of a made-up business (demo, simulate).
 */
export const surveyQuestionSchema = z.strictObject({
  id: z.uuid(),
  text: z.string().trim().min(10).max(500),
  /** Asked in turn when an answer is empty or unclear. */
  followUps: z.array(z.string().trim().min(1).max(500)).max(5).default([]),
});

export const DEMO_QUESTIONS = [
  {
    id: '5b1f1d2e-0c6a-4f7e-9a51-3d2c9e0b7a01',
    text: 'How satisfied were you with your visit today?',
    followUps: ['Would you say it was good, okay or bad?'],
  },
  {
    id: '5b1f1d2e-0c6a-4f7e-9a51-3d2c9e0b7a02',
    text: 'Is there anything we could do better next time?',
    followUps: [],
  },
] as const;

export const surveySettings = z.strictObject({
  /** The survey_calls row this call answers; absent in a demo or simulated call. */
  surveyCallId: z.uuid().optional(),
  businessName: z.string().trim().min(1).max(100).default('Lindgren Dental'),
  language: z.enum(surveyLanguages).default('en-US'),
  questions: z
    .array(surveyQuestionSchema)
    .max(10)
    .default(() => DEMO_QUESTIONS.map((q) => ({ ...q, followUps: [...q.followUps] }))),
  /** The seed's hard limit on a survey call (at most 120 s). */
  limitSeconds: z.number().int().min(30).max(120).default(120),
  /** How long before the limit the customer hears the warning. */
  warnBeforeSeconds: z.number().int().min(5).max(60).default(15),
  timeZone: z.string().min(1).optional(),
});

export type SurveySettings = z.infer<typeof surveySettings>;
