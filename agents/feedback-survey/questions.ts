import { z } from 'zod';

/**
 * A business's survey question, with the seed's field names (question_configurations) and
 * its validation rules. The same schema checks a YAML file handed to `survey select` and a
 * row read from the table, so a rule cannot hold in one place and not the other.
 */

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD')
  .refine((text) => !Number.isNaN(Date.parse(`${text}T00:00:00Z`)), 'a real calendar date');

export const questionPriorities = ['high', 'medium', 'low'] as const;
export type QuestionPriority = (typeof questionPriorities)[number];

export const questionConfigurationSchema = z
  .object({
    id: z.string().min(1),
    business_id: z.string().optional(),
    question_text: z.string().trim().min(10, 'question_text: 10–500 characters').max(500),
    frequency: z.number().int().min(1, 'frequency: 1–100').max(100, 'frequency: 1–100'),
    priority: z.enum(questionPriorities),
    department_tags: z.array(z.string().min(1)).min(1, 'department_tags: at least one tag'),
    active_from: isoDate.nullable().default(null),
    active_until: isoDate.nullable().default(null),
    is_active: z.boolean().default(true),
    max_response_time: z.number().int().min(1).max(60).default(30),
    follow_up_prompts: z.array(z.string().min(1)).nullable().default(null),
    /** When the question was last asked (from call_responses); never asked waits longest. */
    last_asked_at: z.string().datetime({ offset: true }).nullable().default(null),
    created_at: z.string().optional(),
  })
  .refine((q) => !q.active_from || !q.active_until || q.active_from <= q.active_until, {
    message: 'active_from must not be after active_until',
    path: ['active_until'],
  });

export type QuestionConfiguration = z.output<typeof questionConfigurationSchema>;

export const questionFileSchema = z.object({
  questions: z
    .array(questionConfigurationSchema)
    .min(1, 'a questions file needs at least one question')
    .superRefine((questions, ctx) => {
      const seen = new Set<string>();
      for (const [index, question] of questions.entries()) {
        if (seen.has(question.id))
          ctx.addIssue({ code: 'custom', path: [index, 'id'], message: 'id repeated' });
        seen.add(question.id);
      }
    }),
});

/** Parses questions, naming the question and field of the first broken rule. */
export function parseQuestions(input: unknown): QuestionConfiguration[] {
  const listed = Array.isArray(input) ? { questions: input } : input;
  const parsed = questionFileSchema.safeParse(listed);
  if (parsed.success) return parsed.data.questions;
  const issue = parsed.error.issues[0]!;
  const [, index, field] = issue.path;
  const rawQuestions = (listed as { questions?: { id?: unknown }[] })?.questions;
  const id = typeof index === 'number' ? rawQuestions?.[index]?.id : undefined;
  const where = typeof index === 'number' ? `question ${id ?? `#${index + 1}`}` : 'questions file';
  throw new Error(`${where}: ${field ? `${String(field)}: ` : ''}${issue.message}`);
}
