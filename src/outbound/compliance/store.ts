import type pg from 'pg';
import { type Actor, recordAudit } from '../../control/audit.js';
import type { ComplianceDecision } from './check.js';
import { type ComplianceContact, contactSchema } from './contact.js';
import { type Channel, type ComplianceRule, parseComplianceRules } from './rules.js';

/**
 * The compliance check's data in Postgres (migration 050), in a transaction scoped to the
 * customer's organization (RLS): the customer's profile, opt-outs and recent attempts, the
 * organization's rules, and the record of each decision.
 */

export class UnknownCustomerError extends Error {
  override name = 'UnknownCustomerError';
}

/** Attempts older than this cannot matter to a frequency limit (rules allow at most 366 days). */
const ATTEMPT_HISTORY_DAYS = 366;

const iso = (value: Date | string | null | undefined) =>
  value === null || value === undefined ? null : new Date(value).toISOString();
const clock = (value: string | null) => (value ? value.slice(0, 5) : null);

export async function loadContact(
  client: pg.ClientBase,
  customerId: string,
  at: Date,
): Promise<ComplianceContact> {
  const customer = await client.query('SELECT id FROM customers WHERE id = $1', [customerId]);
  if (!customer.rowCount) throw new UnknownCustomerError(`no customer ${customerId} in this organization`);
  const profile = (
    await client.query(
      `SELECT timezone, do_not_contact, preferred_contact_time_start::text AS start,
              preferred_contact_time_end::text AS "end", contact_restrictions
         FROM customer_profiles WHERE customer_id = $1`,
      [customerId],
    )
  ).rows[0];
  const optOuts = await client.query(
    'SELECT channel, reason, opted_out_at, expires_at FROM opt_outs WHERE customer_id = $1',
    [customerId],
  );
  const attempts = await client.query(
    `SELECT channel, status, "timestamp" FROM contact_attempts
      WHERE customer_id = $1 AND status <> 'blocked' AND "timestamp" > $2::timestamptz - make_interval(days => $3) AND "timestamp" <= $2
      ORDER BY "timestamp"`,
    [customerId, at, ATTEMPT_HISTORY_DAYS],
  );
  return contactSchema.parse({
    customer_id: customerId,
    timezone: profile?.timezone ?? null,
    do_not_contact: profile?.do_not_contact ?? false,
    preferred_contact_time_start: clock(profile?.start ?? null),
    preferred_contact_time_end: clock(profile?.end ?? null),
    contact_restrictions: profile?.contact_restrictions ?? [],
    opt_outs: optOuts.rows.map((row) => ({
      channel: row.channel,
      reason: row.reason,
      opted_out_at: iso(row.opted_out_at),
      expires_at: iso(row.expires_at),
    })),
    contact_attempts: attempts.rows.map((row) => ({
      channel: row.channel,
      status: row.status,
      timestamp: iso(row.timestamp),
    })),
  });
}

/** The organization's rules; a stored rule the engine cannot read is an error, not skipped. */
export async function loadRules(client: pg.ClientBase): Promise<ComplianceRule[]> {
  const rows = await client.query(
    'SELECT id, name, description, rule_type, condition, action, severity, is_enabled FROM compliance_rules ORDER BY name',
  );
  return parseComplianceRules(
    rows.rows.map((row) => ({
      id: row.id,
      name: row.name,
      ...(row.description ? { description: row.description } : {}),
      rule_type: row.rule_type,
      condition: row.condition,
      action: row.action,
      severity: row.severity,
      is_enabled: row.is_enabled,
    })),
  );
}

/**
 * Keeps the decision made before a contact; a contact it did not allow is also audited, with
 * the rules that stopped it, so an operator can see every call that was not made and why.
 */
export async function recordDecision(
  client: pg.ClientBase,
  entry: {
    organizationId: string;
    customerId: string;
    channel: Channel;
    at: Date;
    decision: ComplianceDecision;
    actor: Actor;
  },
): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO compliance_decisions (organization_id, customer_id, channel, checked_for, allowed, blocked_by, decision)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
    [
      entry.organizationId,
      entry.customerId,
      entry.channel,
      entry.at,
      entry.decision.allowed,
      [...entry.decision.blocked_by, ...entry.decision.approval_required],
      JSON.stringify(entry.decision),
    ],
  );
  const id = rows[0]!.id;
  if (!entry.decision.allowed) {
    await recordAudit(client, {
      organizationId: entry.organizationId,
      actor: entry.actor,
      action: 'contact_blocked',
      entityType: 'customer',
      entityId: entry.customerId,
      metadata: {
        decision_id: id,
        channel: entry.channel,
        blocked_by: entry.decision.blocked_by,
        approval_required: entry.decision.approval_required,
        next_allowed_at: entry.decision.next_allowed_at,
      },
    });
  }
  return id;
}
