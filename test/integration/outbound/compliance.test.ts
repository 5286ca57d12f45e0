import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDatabaseRole } from '../../../src/config/service-database.js';
import { checkCompliance } from '../../../src/outbound/compliance/check.js';
import {
  loadContact,
  loadRules,
  recordDecision,
  UnknownCustomerError,
} from '../../../src/outbound/compliance/store.js';
import { withOrganization } from '../../../src/persistence/tenant-scope.js';
import { CliProcess } from '../../helpers/cli-process.js';
import { createTestDatabase, type TestDatabase } from '../persistence/helpers.js';

/**
 * The compliance check on its real data: a customer's profile, opt-outs and attempts and the
 * organization's rules in Postgres (migration 050), read as the dialler's role with
 * row-level security; each decision recorded, a blocked one audited; and the CLI both ways.
 */

describe('outbound compliance (Postgres as voice_worker, the CLI)', () => {
  let db: TestDatabase;
  let worker: pg.Pool;
  let org: string;
  let other: string;
  let customer: string;
  const MONDAY_10_CHICAGO = new Date('2026-12-07T16:00:00Z');

  beforeAll(async () => {
    db = await createTestDatabase();
    worker = new pg.Pool({ connectionString: withDatabaseRole(db.url, 'voice_worker'), max: 2 });
    [org, other] = (
      await db.pool.query<{ id: string }>(
        "INSERT INTO organizations (name) VALUES ('Acme Collections'), ('Other') RETURNING id",
      )
    ).rows.map((row) => row.id) as [string, string];
    customer = (
      await db.pool.query<{ id: string }>(
        "INSERT INTO customers (organization_id, first_name, last_name) VALUES ($1, 'Dana', 'Reyes') RETURNING id",
        [org],
      )
    ).rows[0]!.id;
    await db.pool.query(
      `INSERT INTO customer_profiles (organization_id, customer_id, timezone, preferred_contact_time_start, preferred_contact_time_end)
       VALUES ($1, $2, 'America/Chicago', '09:00', '17:00')`,
      [org, customer],
    );
    await db.pool.query(
      `INSERT INTO compliance_rules (organization_id, name, rule_type, condition, action, severity) VALUES
         ($1, 'weekday hours', 'time_restriction', '{"start":"08:00","end":"21:00","days":["mon","tue","wed","thu","fri"],"timezone":"contact"}', 'block_contact', 'high'),
         ($1, 'three calls a week', 'frequency_limit', '{"max_attempts":3,"window_days":7,"channel":"phone"}', 'block_contact', 'high')`,
      [org],
    );
    for (const day of ['2026-12-02', '2026-12-03', '2026-12-04'])
      await db.pool.query(
        `INSERT INTO contact_attempts (organization_id, customer_id, channel, status, "timestamp") VALUES ($1, $2, 'phone', 'no_answer', $3)`,
        [org, customer, `${day}T15:30:00Z`],
      );
  });

  afterAll(async () => {
    await worker.end();
    await db.drop();
  });

  const check = (organizationId: string, at = MONDAY_10_CHICAGO) =>
    withOrganization(worker, organizationId, async (client) => ({
      client,
      decision: checkCompliance(await loadContact(client, customer, at), await loadRules(client), { at }),
    }));

  it("reads the customer's profile, attempts and the organization's rules, and records a blocked decision with an audit entry", async () => {
    await withOrganization(worker, org, async (client) => {
      const decision = checkCompliance(
        await loadContact(client, customer, MONDAY_10_CHICAGO),
        await loadRules(client),
        {
          at: MONDAY_10_CHICAGO,
        },
      );
      expect(decision).toMatchObject({ allowed: false, blocked_by: ['three calls a week'] });
      // The oldest attempt (2 December 15:30Z) leaves the window on the 9th, inside every window.
      expect(decision.next_allowed_at).toBe('2026-12-09T15:30:00.001Z');
      await recordDecision(client, {
        organizationId: org,
        customerId: customer,
        channel: 'phone',
        at: MONDAY_10_CHICAGO,
        decision,
        actor: { type: 'system', id: 'test-dialler' },
      });
    });
    const stored = await db.pool.query(
      'SELECT allowed, blocked_by, decision FROM compliance_decisions WHERE customer_id = $1',
      [customer],
    );
    expect(stored.rows).toEqual([
      expect.objectContaining({ allowed: false, blocked_by: ['three calls a week'] }),
    ]);
    const audit = await db.pool.query(
      "SELECT actor_id, entity_id, metadata FROM audit_logs WHERE action = 'contact_blocked' AND organization_id = $1",
      [org],
    );
    expect(audit.rows).toEqual([
      expect.objectContaining({
        actor_id: 'test-dialler',
        entity_id: customer,
        metadata: expect.objectContaining({ blocked_by: ['three calls a week'], channel: 'phone' }),
      }),
    ]);
  });

  it('honours an opt-out the customer gave since, and shows another organization nothing', async () => {
    await db.pool.query(
      "INSERT INTO opt_outs (organization_id, customer_id, channel, reason, opted_out_at) VALUES ($1, $2, 'phone', 'stop calling me', '2026-12-05T12:00:00Z')",
      [org, customer],
    );
    const { decision } = await check(org, new Date('2026-12-10T16:00:00Z'));
    expect(decision).toMatchObject({ allowed: false, blocked_by: ['opt_out'], next_allowed_at: null });
    await expect(check(other)).rejects.toBeInstanceOf(UnknownCustomerError);
    await db.pool.query('DELETE FROM opt_outs WHERE customer_id = $1', [customer]);
  });

  it('refuses a stored rule the engine cannot read rather than skip it', async () => {
    const bad = randomUUID();
    await db.pool.query(
      `INSERT INTO compliance_rules (id, organization_id, name, rule_type, condition, action)
       VALUES ($1, $2, 'broken', 'frequency_limit', '{"max_attempts":0,"window_days":7}', 'block_contact')`,
      [bad, org],
    );
    await expect(check(org)).rejects.toThrow(/rule "broken": condition.max_attempts/);
    await db.pool.query('DELETE FROM compliance_rules WHERE id = $1', [bad]);
  });

  it('voice-agent compliance check: a contact file and rules file, or a stored customer, as JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'va-compliance-'));
    const contactFile = join(dir, 'contact.yaml');
    const rulesFile = join(dir, 'rules.yaml');
    writeFileSync(
      contactFile,
      [
        'timezone: Europe/Stockholm',
        'do_not_contact: false',
        'contact_attempts:',
        '  - { channel: phone, status: answered, timestamp: "2026-12-06T10:00:00Z" }',
      ].join('\n'),
    );
    writeFileSync(
      rulesFile,
      [
        '- name: daytime',
        '  rule_type: time_restriction',
        '  condition: { start: "09:00", end: "20:00", days: [mon, tue, wed, thu, fri], timezone: contact }',
        '  action: block_contact',
        '- name: one a day',
        '  rule_type: frequency_limit',
        '  condition: { max_attempts: 1, window_days: 1 }',
        '  action: log_warning',
      ].join('\n'),
    );
    const env = { DATABASE_URL: db.url };
    const early = new CliProcess(
      [
        'compliance',
        'check',
        '--contact',
        contactFile,
        '--rules',
        rulesFile,
        '--at',
        '2026-12-07T06:00:00Z',
        '--json',
      ],
      env,
    );
    expect(await early.exited).toBe(2);
    const decision = JSON.parse(early.output.trim().split('\n').at(-1)!);
    expect(decision).toMatchObject({
      allowed: false,
      blocked_by: ['daytime'],
      next_allowed_at: '2026-12-07T08:00:00.000Z',
    });
    // A warning rule reports and lets the contact through (here the window blocks it anyway).
    expect(decision.warnings).toEqual(['one a day: 1 contact attempt in the last 1 day (at most 1)']);

    const stored = new CliProcess(
      ['compliance', 'check', '--customer', customer, '--org', org, '--at', '2026-12-09T16:00:00Z', '--json'],
      env,
    );
    expect(await stored.exited, stored.output).toBe(0);
    expect(JSON.parse(stored.output.trim().split('\n').at(-1)!)).toMatchObject({
      allowed: true,
      blocked_by: [],
    });

    writeFileSync(rulesFile, '- { name: odd, rule_type: moon_phase, condition: {}, action: block_contact }');
    const wrong = new CliProcess(
      ['compliance', 'check', '--contact', contactFile, '--rules', rulesFile, '--json'],
      env,
    );
    expect(await wrong.exited).toBe(1);
    expect(wrong.output).toMatch(/rules.yaml: rule "odd": unknown rule_type/);
    expect(wrong.output).not.toMatch(/\n\s+at /); // one line, no stack
  });
});
