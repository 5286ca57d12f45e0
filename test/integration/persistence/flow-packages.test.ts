import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowMigrationSets, getFlowPackage } from '../../../agents/index.js';
import { makeEvent } from '../../../src/events/index.js';
import { migrateUp, migrationStatus } from '../../../src/persistence/migrate.js';
import { Persister } from '../../../src/persistence/persister.js';
import { createTestDatabase, persisterBase, randomName, sampleCall, type TestDatabase } from './helpers.js';

// A flow's own migrations and records, end to end on the real Postgres: the callback example.

describe('flow packages in the database', () => {
  let db: TestDatabase;
  let persister: Persister;

  beforeAll(async () => {
    db = await createTestDatabase({ flows: flowMigrationSets() });
    persister = new Persister({
      ...persisterBase(db.url, randomName('test-flow-records')),
    });
  });

  afterAll(async () => {
    await persister.close();
    await db.drop();
  });

  it('applies each flow migration after the core ones, once, under a flow-qualified name', async () => {
    const statuses = await migrationStatus(db.url, { flows: flowMigrationSets() });
    expect(statuses.find((s) => s.name === 'callback-request/001_callback_requests.sql')?.state).toBe(
      'applied',
    );
    expect((await migrateUp(db.url, { flows: flowMigrationSets() })).applied).toEqual([]);
    const rows = await db.pool.query('SELECT flow, name FROM flow_migrations ORDER BY flow, version');
    expect(rows.rows).toContainEqual({
      flow: 'callback-request',
      name: 'callback-request/001_callback_requests.sql',
    });
  });

  it("writes a flow's record events into its own table, idempotently by record id", async () => {
    const call = sampleCall();
    const callId = call[0]!.call_id;
    const request = makeEvent('record', callId, {
      record_id: randomUUID(),
      flow: 'callback-request',
      type: 'callback_request',
      data: { caller_name: 'John Smith', callback_day: '2025-03-11' },
    });
    await persister.processBatch({ events: [...call, request] });
    await persister.processBatch({ events: [request] });
    const rows = await db.pool.query(
      'SELECT id, caller_name, callback_day::text AS day FROM callback_requests WHERE conversation_id = $1',
      [callId],
    );
    expect(rows.rows).toEqual([
      { id: request.payload.record_id, caller_name: 'John Smith', day: '2025-03-11' },
    ]);
  });

  it('refuses a flow migration changed after it was applied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flow-mig-'));
    try {
      cpSync(getFlowPackage('callback-request').migrations!, dir, { recursive: true });
      writeFileSync(join(dir, '001_callback_requests.sql'), 'SELECT 1;');
      await expect(migrateUp(db.url, { flows: [{ flow: 'callback-request', dir }] })).rejects.toThrow(
        /callback-request\/001_callback_requests\.sql changed after being applied/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** A scratch flow whose migrations are `sql` files, applied to the test database. */
  async function migrateScratchFlow(flow: string, files: Record<string, string>) {
    const dir = mkdtempSync(join(tmpdir(), 'flow-mig-'));
    try {
      for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
      return await migrateUp(db.url, { flows: [{ flow, dir }] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const exists = async (table: string) =>
    (await db.pool.query('SELECT to_regclass($1) IS NOT NULL AS found', [table])).rows[0].found;
  const recorded = async (flow: string) =>
    (await db.pool.query('SELECT name FROM flow_migrations WHERE flow = $1', [flow])).rowCount;

  it('refuses, and rolls back, a flow table without row-level security or without organization_id', async () => {
    const leaky = 'CREATE TABLE leaky_notes (id uuid PRIMARY KEY, organization_id uuid NOT NULL);';
    await expect(migrateScratchFlow('leaky-flow', { '001_notes.sql': leaky })).rejects.toThrow(
      /leaky_notes has no row-level security: add SELECT enable_tenant_rls\('leaky_notes'\)/,
    );
    const orphan = 'CREATE TABLE orphan_notes (id uuid PRIMARY KEY);';
    await expect(migrateScratchFlow('orphan-flow', { '001_notes.sql': orphan })).rejects.toThrow(
      /orphan_notes has no organization_id column/,
    );
    expect(await exists('leaky_notes')).toBe(false);
    expect(await exists('orphan_notes')).toBe(false);
    expect(await recorded('leaky-flow')).toBe(0);
  });

  it('accepts security added by a later migration of the same set, all in one transaction', async () => {
    const applied = await migrateScratchFlow('late-rls-flow', {
      '001_notes.sql': 'CREATE TABLE late_notes (id uuid PRIMARY KEY, organization_id uuid NOT NULL);',
      '002_notes_rls.sql': "SELECT enable_tenant_rls('late_notes');",
    });
    expect(applied.applied).toEqual(['late-rls-flow/001_notes.sql', 'late-rls-flow/002_notes_rls.sql']);
    const rls = await db.pool.query(
      "SELECT relrowsecurity AND relforcerowsecurity AS forced FROM pg_class WHERE relname = 'late_notes'",
    );
    expect(rls.rows[0].forced).toBe(true);
  });

  it('keeps the callback example isolated per organization', async () => {
    const rls = await db.pool.query(
      "SELECT relrowsecurity AND relforcerowsecurity AS forced FROM pg_class WHERE relname = 'callback_requests'",
    );
    expect(rls.rows[0].forced).toBe(true);
  });

  it('names a package whose migrations folder is missing', async () => {
    const missing = join(tmpdir(), `no-such-${randomUUID()}`);
    await expect(migrateUp(db.url, { flows: [{ flow: 'ghost-flow', dir: missing }] })).rejects.toThrow(
      /flow ghost-flow declares its migrations in .*no-such-.*, which does not exist/,
    );
  });
});
