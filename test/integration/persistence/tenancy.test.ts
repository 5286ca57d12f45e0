import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowMigrationSets } from '../../../agents/index.js';
import { withDatabaseRole } from '../../../src/config/service-database.js';
import { makeEvent } from '../../../src/events/index.js';
import { Persister } from '../../../src/persistence/persister.js';
import {
  createTestDatabase,
  obliterateQueues,
  persisterBase,
  randomName,
  type TestDatabase,
} from './helpers.js';
import {
  callOf,
  createOrganization,
  ensureRow,
  rolePool,
  SERVICE_ROLES,
  type TenantTable,
  tenantTables,
} from './tenant-fixtures.js';

/**
 * Row-level security against the real server, through the service roles (a superuser would
 * bypass every policy). Tenant tables are read from the catalogue, so a table another
 * migration adds is checked without touching this file.
 */

const DENIED = '42501'; // insufficient_privilege: no grant, or a policy refused the row

type Outcome = { rows: number } | { denied: true };

async function attempt(
  pool: pg.Pool,
  organizationId: string | null,
  sql: string,
  params: unknown[] = [],
): Promise<Outcome> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    if (organizationId)
      await client.query("SELECT set_config('app.organization_id', $1, true)", [organizationId]);
    const r = await client.query(sql, params);
    const rows = r.command === 'SELECT' ? Number(r.rows[0]?.n ?? r.rowCount) : (r.rowCount ?? 0);
    return { rows };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === DENIED) return { denied: true };
    throw new Error(`${sql}: ${(err as Error).message} (${code})`);
  } finally {
    await client.query('ROLLBACK').catch(() => {});
    client.release();
  }
}

const noRows = (o: Outcome) => ('denied' in o ? 0 : o.rows);

/** The feedback survey's rows (its checks and foreign keys are beyond the generic filler). */
async function seedSurveyRows(admin: pg.Pool, org: string, call: string): Promise<void> {
  const question = (
    await admin.query<{ id: string }>(
      `INSERT INTO question_configurations (organization_id, question_text, frequency, priority, department_tags)
       VALUES ($1, 'How was your visit today?', 1, 'high', '["front"]') RETURNING id`,
      [org],
    )
  ).rows[0]!.id;
  await admin.query('INSERT INTO survey_customer_counters (organization_id, customer_count) VALUES ($1, 1)', [
    org,
  ]);
  await admin.query('INSERT INTO survey_business_settings (organization_id) VALUES ($1)', [org]);
  const surveyCall = (
    await admin.query<{ id: string }>(
      `INSERT INTO survey_calls (organization_id, conversation_id, verification_id, customer_phone, customer_phone_hash, customer_count)
       VALUES ($1, $2, $3, 'sealed', '\\x01', 1) RETURNING id`,
      [org, call, randomUUID()],
    )
  ).rows[0]!.id;
  await admin.query(
    `INSERT INTO call_responses (organization_id, survey_call_id, question_id, question_text, asked_at)
     VALUES ($1, $2, $3, 'How was your visit today?', now())`,
    [org, surveyCall, question],
  );
  await admin.query(
    `INSERT INTO question_selection_logs (organization_id, survey_call_id, customer_count, selected_questions,
       selection_algorithm, selection_criteria, time_budget_seconds, estimated_duration)
     VALUES ($1, $2, 1, '[]', 'test', '{}', 90, 0)`,
    [org, surveyCall],
  );
}

/** The payment campaigns' rows (a customer, an invoice, a campaign and its task). */
async function seedCampaignRows(admin: pg.Pool, org: string): Promise<void> {
  const customer = (
    await admin.query<{ id: string }>(
      "INSERT INTO customers (organization_id, first_name) VALUES ($1, 'Pat') RETURNING id",
      [org],
    )
  ).rows[0]!.id;
  const invoice = (
    await admin.query<{ id: string }>(
      `INSERT INTO payment_records (organization_id, customer_id, amount, due_date, status, invoice_number)
       VALUES ($1, $2, 10, '2030-01-01', 'pending', $3) RETURNING id`,
      [org, customer, `INV-${randomUUID().slice(0, 8)}`],
    )
  ).rows[0]!.id;
  await admin.query("INSERT INTO agents (organization_id, name, type) VALUES ($1, 'caller-1', 'phone')", [
    org,
  ]);
  await admin.query(
    "INSERT INTO templates (organization_id, name, type, channel, content) VALUES ($1, 'reminder', 'phone_script', 'phone', 'Hello.')",
    [org],
  );
  const campaign = (
    await admin.query<{ id: string }>(
      `INSERT INTO campaigns (organization_id, name, customer_id, payment_record_id, escalation_steps, start_date)
       VALUES ($1, 'c', $2, $3, '[{"day":0}]', now()) RETURNING id`,
      [org, customer, invoice],
    )
  ).rows[0]!.id;
  await admin.query(
    "INSERT INTO tasks (organization_id, type, customer_id, campaign_id, step_index) VALUES ($1, 'make_call', $2, $3, 0)",
    [org, customer, campaign],
  );
}

/** Rows the generic filler cannot guess (checked values, a customer to point at). */
async function seedOutboundRows(admin: pg.Pool, org: string, call: string): Promise<void> {
  await admin.query(
    `INSERT INTO telephony_provider_logs (id, organization_id, conversation_id, provider, operation, status_code, latency_ms, success, occurred_at)
     VALUES ($1, $2, $3, 'livekit-sip', 'hangup', 200, 3, true, now())`,
    [randomUUID(), org, call],
  );
  const customer = (
    await admin.query<{ id: string }>(
      "INSERT INTO customers (organization_id, first_name) VALUES ($1, 'Sam') RETURNING id",
      [org],
    )
  ).rows[0]!.id;
  await admin.query(
    "INSERT INTO customer_profiles (organization_id, customer_id, timezone) VALUES ($1, $2, 'UTC')",
    [org, customer],
  );
  await admin.query("INSERT INTO opt_outs (organization_id, customer_id, channel) VALUES ($1, $2, 'sms')", [
    org,
    customer,
  ]);
  await admin.query(
    "INSERT INTO contact_attempts (organization_id, customer_id, channel, status) VALUES ($1, $2, 'phone', 'answered')",
    [org, customer],
  );
  await admin.query(
    `INSERT INTO compliance_rules (organization_id, name, rule_type, condition, action)
     VALUES ($1, 'no sms', 'channel_restriction', '{"blocked_channels":["sms"]}', 'block_contact')`,
    [org],
  );
  await admin.query(
    `INSERT INTO compliance_decisions (organization_id, customer_id, channel, checked_for, allowed, decision)
     VALUES ($1, $2, 'phone', now(), true, '{}')`,
    [org, customer],
  );
}

describe('tenancy: row-level security per organization', () => {
  let db: TestDatabase;
  let persister: Persister;
  let tables: TenantTable[];
  let orgA: string;
  let orgB: string;
  const pools = new Map<string, pg.Pool>();
  const callA = randomUUID();
  const callB = randomUUID();
  const queueName = randomName('test-tenancy');
  const unseeded: string[] = [];

  beforeAll(async () => {
    // Every flow package's tables too: they are tenant tables like the core ones.
    db = await createTestDatabase({ flows: flowMigrationSets() });
    orgA = await createOrganization(db.pool, 'Org A');
    orgB = await createOrganization(db.pool, 'Org B');
    for (const role of SERVICE_ROLES) pools.set(role, rolePool(db.url, role));
    // The persister as its own role writes both organizations' calls.
    persister = new Persister({
      ...persisterBase(withDatabaseRole(db.url, 'voice_persister'), queueName),
    });
    const result = await persister.processBatch({ events: [...callOf(orgA, callA), ...callOf(orgB, callB)] });
    expect(result).toEqual({ written: 20, deadLettered: 0 });
    for (const [org, call] of [
      [orgA, callA],
      [orgB, callB],
    ] as const) {
      await db.pool.query(
        `INSERT INTO users (organization_id, email, password_hash, role) VALUES ($1, $2, 'scrypt$x', 'admin')`,
        [org, `${randomUUID()}@example.test`],
      );
      await db.pool.query(
        `INSERT INTO api_keys (organization_id, name, key_prefix, key_hash) VALUES ($1, 'k', 'va_x', $2)`,
        [org, Buffer.from(randomUUID())],
      );
      await db.pool.query(
        `INSERT INTO audit_logs (organization_id, actor_type, actor_id, action, entity_type, entity_id)
         VALUES ($1, 'cli', 'test', 'created', 'organization', $2)`,
        [org, org],
      );
      await db.pool.query(
        `INSERT INTO phone_routes (organization_id, number, flow, settings) VALUES ($1, $2, 'appointment-booking', '{}')`,
        [org, `+1555010${String(Math.floor(Math.random() * 9000) + 1000)}`],
      );
      await db.pool.query(
        `INSERT INTO call_reconciliation (call_id, organization_id, declared, ended_at) VALUES ($1, $2, '{}', now())
         ON CONFLICT (call_id) DO NOTHING`,
        [call, org],
      );
      await seedOutboundRows(db.pool, org, call);
      await seedSurveyRows(db.pool, org, call);
      await seedCampaignRows(db.pool, org);
      tables = await tenantTables(db.pool);
      for (const t of tables) if (!(await ensureRow(db.pool, t.name, org, call))) unseeded.push(t.name);
    }
  });

  afterAll(async () => {
    await persister?.close();
    for (const p of pools.values()) await p.end();
    await obliterateQueues(queueName);
    await db?.drop();
  });

  it('forces row-level security on every table with an organization_id', () => {
    expect(tables.length).toBeGreaterThanOrEqual(15);
    const unprotected = tables.filter((t) => !t.enabled || !t.forced).map((t) => t.name);
    expect(unprotected).toEqual([]);
  });

  it('notices a table that has an organization_id but no row-level security', async () => {
    await db.pool.query('CREATE TABLE rogue_table (id uuid PRIMARY KEY, organization_id uuid NOT NULL)');
    try {
      await db.pool.query('GRANT SELECT ON rogue_table TO voice_reporting');
      await db.pool.query('INSERT INTO rogue_table VALUES ($1, $2)', [randomUUID(), orgB]);
      const found = (await tenantTables(db.pool)).find((t) => t.name === 'rogue_table');
      expect(found).toMatchObject({ enabled: false, forced: false });
      // The read check would fail for it: A's scope sees B's row.
      const leaked = await attempt(
        pools.get('voice_reporting')!,
        orgA,
        'SELECT count(*) AS n FROM rogue_table WHERE organization_id <> $1',
        [orgA],
      );
      expect(leaked).toEqual({ rows: 1 });
    } finally {
      await db.pool.query('DROP TABLE rogue_table');
    }
  });

  it("has each tenant table's policies compare organization_id with the transaction's organization", async () => {
    const { rows } = await db.pool.query<{ tablename: string; qual: string; roles: string[] }>(
      `SELECT tablename, qual, roles FROM pg_policies WHERE schemaname = 'public'`,
    );
    for (const t of tables) {
      const policies = rows.filter((r) => r.tablename === t.name);
      expect(policies.length, t.name).toBeGreaterThan(0);
      // Policies for the resolver's lookups only; every other policy is the tenant check.
      for (const p of policies.filter((p) => !p.roles.includes('voice_tenant_resolver'))) {
        expect(p.qual, t.name).toContain('current_organization_id()');
      }
    }
    expect(unseeded, 'tables the fixtures could not give a row (seed them in the test)').toEqual([]);
  });

  it('shows nothing in any tenant table when no organization is set', async () => {
    for (const role of SERVICE_ROLES) {
      for (const t of tables) {
        const seen = await attempt(pools.get(role)!, null, `SELECT count(*) AS n FROM ${t.name}`);
        expect(noRows(seen), `${role} ${t.name}`).toBe(0);
      }
    }
  });

  it("lets every role read its own organization's rows where granted, and never another's", async () => {
    const reporting = pools.get('voice_reporting')!;
    for (const t of tables) {
      const own = await attempt(reporting, orgA, `SELECT count(*) AS n FROM ${t.name}`);
      expect(noRows(own), `reporting sees its own rows in ${t.name}`).toBeGreaterThan(0);
    }
    for (const role of SERVICE_ROLES) {
      for (const t of tables) {
        const other = await attempt(
          pools.get(role)!,
          orgA,
          `SELECT count(*) AS n FROM ${t.name} WHERE organization_id <> $1`,
          [orgA],
        );
        expect(noRows(other), `${role} reads B in ${t.name}`).toBe(0);
      }
    }
  });

  it("lets no role update or delete another organization's rows, or move its own there", async () => {
    for (const role of SERVICE_ROLES) {
      const pool = pools.get(role)!;
      for (const t of tables) {
        const where = `WHERE organization_id = $1`;
        const upd = await attempt(
          pool,
          orgA,
          `UPDATE ${t.name} SET organization_id = organization_id ${where}`,
          [orgB],
        );
        expect(noRows(upd), `${role} updates B in ${t.name}`).toBe(0);
        const del = await attempt(pool, orgA, `DELETE FROM ${t.name} ${where}`, [orgB]);
        expect(noRows(del), `${role} deletes B in ${t.name}`).toBe(0);
        const moved = await attempt(pool, orgA, `UPDATE ${t.name} SET organization_id = $2 ${where}`, [
          orgA,
          orgB,
        ]);
        // Either the role may not update the table at all, or the policy refuses the new row.
        expect(moved, `${role} moves A's rows to B in ${t.name}`).toEqual({ denied: true });
      }
    }
  });

  it('lets no role insert a row for another organization', async () => {
    for (const t of tables) {
      const { rows } = await db.pool.query(
        `SELECT to_jsonb(t) AS row FROM ${t.name} t WHERE organization_id = $1 LIMIT 1`,
        [orgB],
      );
      const row = { ...rows[0].row };
      if ('id' in row) row.id = randomUUID();
      for (const role of SERVICE_ROLES) {
        const inserted = await attempt(
          pools.get(role)!,
          orgA,
          `INSERT INTO ${t.name} SELECT * FROM jsonb_populate_record(NULL::${t.name}, $1::jsonb)`,
          [row],
        );
        expect(inserted, `${role} inserts B's row into ${t.name}`).toEqual({ denied: true });
      }
    }
  });

  it('keeps a call in its organization when a later event claims another', async () => {
    const turn = makeEvent(
      'turn',
      callA,
      { turn_id: randomUUID(), turn_number: 2, role: 'user', text: 'moved?' },
      { organizationId: orgB },
    );
    await persister.processBatch({ events: [turn] });
    const stored = await db.pool.query('SELECT organization_id FROM conversation_turns WHERE id = $1', [
      turn.payload.turn_id,
    ]);
    expect(stored.rows).toEqual([{ organization_id: orgA }]);
    const seenByB = await attempt(
      pools.get('voice_reporting')!,
      orgB,
      'SELECT count(*) AS n FROM conversation_turns WHERE conversation_id = $1',
      [callA],
    );
    expect(noRows(seenByB)).toBe(0);
    const conv = await db.pool.query('SELECT organization_id FROM conversations WHERE id = $1', [callA]);
    expect(conv.rows).toEqual([{ organization_id: orgA }]);
  });

  it("gives a new call its call.started's organization even when an earlier event claims another", async () => {
    const callId = randomUUID();
    const [started, ...rest] = callOf(orgA, callId);
    const forged = rest.map((e) => ({ ...e, organization_id: orgB }));
    await persister.processBatch({ events: [...forged.slice(0, 3), started!, ...forged.slice(3)] });
    const { rows } = await db.pool.query(
      `SELECT DISTINCT organization_id FROM (
         SELECT organization_id FROM conversations WHERE id = $1
         UNION ALL SELECT organization_id FROM conversation_turns WHERE conversation_id = $1
         UNION ALL SELECT organization_id FROM call_events WHERE conversation_id = $1
         UNION ALL SELECT organization_id FROM extracted_slots WHERE conversation_id = $1) t`,
      [callId],
    );
    expect(rows).toEqual([{ organization_id: orgA }]);
  });

  it('keeps audit_logs append-only for every service role, but not for its owner', async () => {
    const admin = pools.get('voice_admin_api')!;
    const added = await attempt(
      admin,
      orgA,
      `INSERT INTO audit_logs (organization_id, actor_type, actor_id, action, entity_type, entity_id)
       VALUES ($1, 'cli', 'test', 'updated', 'settings', 'x')`,
      [orgA],
    );
    expect(added).toEqual({ rows: 1 });
    for (const role of SERVICE_ROLES) {
      const pool = pools.get(role)!;
      expect(await attempt(pool, orgA, 'UPDATE audit_logs SET action = $1', ['forged']), role).toEqual({
        denied: true,
      });
      expect(await attempt(pool, orgA, 'DELETE FROM audit_logs'), role).toEqual({ denied: true });
    }
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL ROLE voice_migrator');
      await client.query("SELECT set_config('app.organization_id', $1, true)", [orgA]);
      const erased = await client.query('DELETE FROM audit_logs WHERE organization_id = $1', [orgA]);
      expect(erased.rowCount).toBeGreaterThan(0);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});
