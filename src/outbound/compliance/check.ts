import { addDays, todayIn, zonedInstant, zonedParts } from '../../conversation/clock.js';
import type { ComplianceContact } from './contact.js';
import {
  type Channel,
  type ComplianceRule,
  type RULE_ACTIONS,
  type WeekdayName,
  weekdayName,
} from './rules.js';

/**
 * The compliance check before an outbound contact: every rule and the customer's own limits
 * (do-not-contact, opt-outs, channels to avoid, preferred window) against one instant, with
 * the decision, who decided it, and the first instant a contact would be allowed.
 *
 * Built in, whatever the rule set says: `do_not_contact`, `opt_out`, `contact_restrictions`,
 * `preferred_contact_window` (when the profile has one) and, when no enabled
 * time_restriction rule applies to the channel, `default_calling_hours` (08:00–21:00 every day
 * in the customer's zone). A customer without a known zone cannot be placed in any window:
 * window rules in the contact's zone then block, and say why.
 */

export interface ComplianceDecision {
  allowed: boolean;
  /** Rules (and built-ins) whose `block_contact` applies now. */
  blocked_by: string[];
  /** Rules whose `require_approval` applies: no automatic contact until someone approves. */
  approval_required: string[];
  warnings: string[];
  escalations: string[];
  /** The first instant from `at` when nothing blocks (null: not by waiting). */
  next_allowed_at: string | null;
  /** Every rule that applies now, with why: what the audit log keeps. */
  violations: { rule: string; action: (typeof RULE_ACTIONS)[number]; severity: string; reason: string }[];
}

interface Check {
  name: string;
  action: (typeof RULE_ACTIONS)[number];
  severity: string;
  /** Why a contact at `at` breaks it, or null. */
  violated(at: Date): string | null;
  /** The earliest instant ≥ `at` when it holds again; null when waiting never helps. */
  clearsAt(at: Date): Date | null;
}

interface Window {
  start: string;
  end: string;
  days: readonly WeekdayName[];
  zone: string | null;
}

const minutesOf = (clock: string) => {
  const [hours, minutes] = clock.split(':').map(Number);
  return (hours ?? 0) * 60 + (minutes ?? 0);
};
const HORIZON_MS = 400 * 86_400_000;
const EVERY_DAY: readonly WeekdayName[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

function insideWindow(at: Date, window: Window & { zone: string }): boolean {
  const parts = zonedParts(at, window.zone);
  const minute = parts.hour * 60 + parts.minute;
  const [start, end] = [minutesOf(window.start), minutesOf(window.end)];
  const day = weekdayName(((parts.weekday + 6) % 7) + 1);
  if (start < end) return window.days.includes(day) && minute >= start && minute < end;
  // Across midnight (22:00–06:00): the evening part counts for its own day, the morning part
  // for the day before.
  if (minute >= start) return window.days.includes(day);
  const before = weekdayName(((parts.weekday + 5) % 7) + 1);
  return minute < end && window.days.includes(before);
}

function windowCheck(name: string, rule: Pick<Check, 'action' | 'severity'>, window: Window): Check {
  const describe = `${window.start}–${window.end} ${window.days.length === 7 ? 'every day' : window.days.join(',')}`;
  return {
    name,
    ...rule,
    violated: (at) => {
      if (!window.zone) return `no time zone is known for the customer, so ${describe} cannot be placed`;
      return insideWindow(at, { ...window, zone: window.zone })
        ? null
        : `outside ${describe} in ${window.zone}`;
    },
    clearsAt: (at) => {
      const zone = window.zone;
      if (!zone) return null;
      if (insideWindow(at, { ...window, zone })) return at;
      const today = todayIn(at, zone);
      for (let offset = 0; offset <= 8; offset++) {
        const opening = zonedInstant(addDays(today, offset), minutesOf(window.start), zone);
        if (opening.getTime() >= at.getTime() && insideWindow(opening, { ...window, zone })) return opening;
      }
      return null;
    },
  };
}

function frequencyCheck(
  name: string,
  rule: Pick<Check, 'action' | 'severity'>,
  limit: { max_attempts: number; window_days: number; channel?: Channel | undefined },
  attempts: readonly Date[],
): Check {
  const windowMs = limit.window_days * 86_400_000;
  const inWindow = (at: Date) =>
    attempts
      .filter((t) => t.getTime() <= at.getTime() && t.getTime() > at.getTime() - windowMs)
      .sort((a, b) => a.getTime() - b.getTime());
  return {
    name,
    ...rule,
    violated: (at) => {
      const count = inWindow(at).length;
      const attemptsText = `${count} ${limit.channel ?? 'contact'} attempt${count === 1 ? '' : 's'}`;
      const days = `${limit.window_days} day${limit.window_days === 1 ? '' : 's'}`;
      return count >= limit.max_attempts
        ? `${attemptsText} in the last ${days} (at most ${limit.max_attempts})`
        : null;
    },
    clearsAt: (at) => {
      const recent = inWindow(at);
      if (recent.length < limit.max_attempts) return at;
      // Enough of the oldest must leave the window for the count to drop below the limit.
      const leaving = recent[recent.length - limit.max_attempts]!;
      return new Date(leaving.getTime() + windowMs + 1);
    },
  };
}

const permanent = (name: string, reason: string | null): Check => ({
  name,
  action: 'block_contact',
  severity: 'critical',
  violated: () => reason,
  clearsAt: (at) => (reason ? null : at),
});

function optOutCheck(contact: ComplianceContact, channel: Channel): Check {
  const relevant = contact.opt_outs.filter((o) => o.channel === channel || o.channel === 'all');
  const active = (at: Date) =>
    relevant.filter(
      (o) =>
        Date.parse(o.opted_out_at) <= at.getTime() &&
        (!o.expires_at || Date.parse(o.expires_at) > at.getTime()),
    );
  return {
    name: 'opt_out',
    action: 'block_contact',
    severity: 'critical',
    violated: (at) => {
      const now = active(at);
      if (now.length === 0) return null;
      const until = now.every((o) => o.expires_at)
        ? ` until ${now
            .map((o) => o.expires_at)
            .sort()
            .at(-1)}`
        : '';
      return `the customer opted out of ${now.map((o) => o.channel).join(' and ')}${until}`;
    },
    clearsAt: (at) => {
      const now = active(at);
      if (now.length === 0) return at;
      if (now.some((o) => !o.expires_at)) return null;
      return new Date(Math.max(...now.map((o) => Date.parse(o.expires_at!))));
    },
  };
}

/** Every check that applies to contacting `contact` on `channel` under `rules`. */
function checksFor(contact: ComplianceContact, rules: readonly ComplianceRule[], channel: Channel): Check[] {
  const zone = contact.timezone ?? null;
  const checks: Check[] = [
    permanent('do_not_contact', contact.do_not_contact ? 'the customer is marked do not contact' : null),
    optOutCheck(contact, channel),
    permanent(
      'contact_restrictions',
      contact.contact_restrictions.includes(channel)
        ? `the customer asked not to be contacted by ${channel}`
        : null,
    ),
  ];
  if (contact.preferred_contact_time_start && contact.preferred_contact_time_end) {
    checks.push(
      windowCheck(
        'preferred_contact_window',
        { action: 'block_contact', severity: 'medium' },
        {
          start: contact.preferred_contact_time_start.slice(0, 5),
          end: contact.preferred_contact_time_end.slice(0, 5),
          days: EVERY_DAY,
          zone,
        },
      ),
    );
  }
  const attempts = (only?: Channel) =>
    contact.contact_attempts.filter((a) => !only || a.channel === only).map((a) => new Date(a.timestamp));
  let windows = 0;
  for (const rule of rules) {
    if (!rule.is_enabled) continue;
    const base = { action: rule.action, severity: rule.severity };
    if (rule.rule_type === 'time_restriction') {
      if (rule.condition.channel && rule.condition.channel !== channel) continue;
      if (rule.action === 'block_contact') windows++;
      const ruleZone = rule.condition.timezone === 'contact' ? zone : rule.condition.timezone;
      checks.push(windowCheck(rule.name, base, { ...rule.condition, zone: ruleZone }));
    } else if (rule.rule_type === 'frequency_limit') {
      if (rule.condition.channel && rule.condition.channel !== channel) continue;
      checks.push(frequencyCheck(rule.name, base, rule.condition, attempts(rule.condition.channel)));
    } else if (rule.condition.blocked_channels.includes(channel)) {
      checks.push({
        name: rule.name,
        ...base,
        violated: () => `${channel} is a blocked channel`,
        clearsAt: () => null,
      });
    }
  }
  if (windows === 0) {
    checks.push(
      windowCheck(
        'default_calling_hours',
        { action: 'block_contact', severity: 'high' },
        { start: '08:00', end: '21:00', days: EVERY_DAY, zone },
      ),
    );
  }
  return checks;
}

const stops = (check: Check) => check.action === 'block_contact' || check.action === 'require_approval';

/** The first instant ≥ at when no stopping check is violated, or null. */
function nextAllowed(checks: readonly Check[], at: Date): Date | null {
  let t = at;
  for (let step = 0; step < 100 && t.getTime() - at.getTime() <= HORIZON_MS; step++) {
    const violated = checks.filter((check) => stops(check) && check.violated(t) !== null);
    if (violated.length === 0) return t;
    let later = t;
    for (const check of violated) {
      const clears = check.clearsAt(t);
      if (!clears) return null;
      if (clears.getTime() > later.getTime()) later = clears;
    }
    // A check that claims to hold now yet was violated: move on rather than loop.
    t = later.getTime() > t.getTime() ? later : new Date(t.getTime() + 60_000);
  }
  return null;
}

/** Whether contacting the customer on `channel` at `at` is allowed, and why not. */
export function checkCompliance(
  contact: ComplianceContact,
  rules: readonly ComplianceRule[],
  options: { at: Date; channel?: Channel },
): ComplianceDecision {
  const checks = checksFor(contact, rules, options.channel ?? 'phone');
  const decision: ComplianceDecision = {
    allowed: true,
    blocked_by: [],
    approval_required: [],
    warnings: [],
    escalations: [],
    next_allowed_at: null,
    violations: [],
  };
  for (const check of checks) {
    const reason = check.violated(options.at);
    if (reason === null) continue;
    decision.violations.push({ rule: check.name, action: check.action, severity: check.severity, reason });
    if (check.action === 'block_contact') decision.blocked_by.push(check.name);
    else if (check.action === 'require_approval') decision.approval_required.push(check.name);
    else if (check.action === 'log_warning') decision.warnings.push(`${check.name}: ${reason}`);
    else decision.escalations.push(`${check.name}: ${reason}`);
  }
  decision.allowed = decision.blocked_by.length === 0 && decision.approval_required.length === 0;
  const next = nextAllowed(checks, options.at);
  decision.next_allowed_at = next ? next.toISOString() : null;
  return decision;
}
