import { z } from 'zod';

/**
 * A campaign's escalation steps (campaigns.escalation_steps): each is a reminder call so many
 * days after the campaign starts, with its phone script, e.g. day 0 reminder, day 7 second
 * call, day 14 final notice.
 */
export const escalationStep = z.strictObject({
  day: z.number().int().min(0).max(365),
  /** templates.name of the phone script; the flow's own words when absent. */
  template: z.string().min(1).max(100).optional(),
  priority: z.enum(['low', 'medium', 'high', 'urgent']).default('medium'),
  /** Call attempts for this step (no answer, busy) before it fails. */
  max_attempts: z.number().int().min(1).max(10).default(3),
});

export const escalationSteps = z
  .array(escalationStep)
  .min(1)
  .max(20)
  .refine(
    (steps) => steps.every((step, i) => i === 0 || step.day > steps[i - 1]!.day),
    'steps must be in increasing day order',
  );

export type EscalationStep = z.infer<typeof escalationStep>;

/** When each step is due, from the campaign's start. */
export function stepDueAt(start: Date, step: Pick<EscalationStep, 'day'>): Date {
  return new Date(start.getTime() + step.day * 86_400_000);
}
