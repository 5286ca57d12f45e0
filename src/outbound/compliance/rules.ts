import { z } from 'zod';

/**
 * Compliance rules (seed 004's compliance_rules): what an outbound contact must respect. A
 * rule is a typed condition plus what to do when a contact would break it. Unknown rule types
 * are refused when the rules are loaded, never skipped: a rule nobody enforces is worse than
 * an error.
 */

export const CHANNELS = ['phone', 'sms', 'email'] as const;
export type Channel = (typeof CHANNELS)[number];

const channel = z.enum(CHANNELS);
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)');
const WEEKDAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type WeekdayName = (typeof WEEKDAY_NAMES)[number];

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const timeRestriction = z.strictObject({
  start: clockTime,
  end: clockTime,
  days: z
    .array(z.enum(WEEKDAY_NAMES))
    .min(1)
    .default([...WEEKDAY_NAMES]),
  /** `contact`: the customer's own zone; else an IANA zone. */
  timezone: z
    .string()
    .default('contact')
    .refine((zone) => zone === 'contact' || isTimeZone(zone), 'must be "contact" or an IANA time zone'),
  channel: channel.optional(),
});

export const frequencyLimit = z.strictObject({
  max_attempts: z.number().int().min(1),
  window_days: z.number().positive().max(366),
  /** Count only this channel's attempts (all channels when absent). */
  channel: channel.optional(),
});

export const channelRestriction = z.strictObject({
  blocked_channels: z.array(channel).min(1),
});

export const RULE_ACTIONS = ['block_contact', 'require_approval', 'log_warning', 'escalate'] as const;

const ruleBase = {
  id: z.string().optional(),
  name: z.string().trim().min(1).max(100),
  description: z.string().optional(),
  action: z.enum(RULE_ACTIONS),
  severity: z.enum(['low', 'medium', 'high', 'critical']).default('medium'),
  is_enabled: z.boolean().default(true),
};

export const complianceRuleSchema = z.discriminatedUnion('rule_type', [
  z.strictObject({ ...ruleBase, rule_type: z.literal('time_restriction'), condition: timeRestriction }),
  z.strictObject({ ...ruleBase, rule_type: z.literal('frequency_limit'), condition: frequencyLimit }),
  z.strictObject({ ...ruleBase, rule_type: z.literal('channel_restriction'), condition: channelRestriction }),
]);

export type ComplianceRule = z.infer<typeof complianceRuleSchema>;
export type TimeRestriction = z.infer<typeof timeRestriction>;

export class ComplianceRuleError extends Error {
  override name = 'ComplianceRuleError';
}

/** Rules from YAML/JSON/database rows; a bad rule is an error naming it and the field. */
export function parseComplianceRules(raw: unknown): ComplianceRule[] {
  if (!Array.isArray(raw)) throw new ComplianceRuleError('compliance rules must be a list');
  const names = new Set<string>();
  return raw.map((item, index) => {
    const label = (item as { name?: unknown })?.name
      ? `rule "${String((item as { name: unknown }).name)}"`
      : `rule ${index + 1}`;
    const parsed = complianceRuleSchema.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const known = 'time_restriction, frequency_limit, channel_restriction';
      const why =
        issue.path[0] === 'rule_type'
          ? `unknown rule_type (known: ${known})`
          : `${issue.path.join('.')}: ${issue.message}`;
      throw new ComplianceRuleError(`${label}: ${why}`);
    }
    if (names.has(parsed.data.name)) throw new ComplianceRuleError(`${label}: two rules have this name`);
    names.add(parsed.data.name);
    return parsed.data;
  });
}

/** ISO weekday (1 = Monday) → the rules' day name. */
export function weekdayName(isoWeekday: number): WeekdayName {
  return WEEKDAY_NAMES[isoWeekday - 1]!;
}
