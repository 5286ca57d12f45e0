import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDatabaseRole } from '../../../src/config/service-database.js';
import { Persister } from '../../../src/persistence/persister.js';
import { reapStaleCalls } from '../../../src/persistence/reaper.js';
import { runRetention } from '../../../src/persistence/retention.js';
import {
  createTestDatabase,
  obliterateQueues,
  persisterBase,
  randomName,
  type TestDatabase,
} from './helpers.js';
import { callOf, createOrganization, rolePool } from './tenant-fixtures.js';

/**
 * The persister's maintenance paths as the voice_persister role, not the superuser: each
 * runs once per organization under row-level security and must still reach every
 * organization's calls.
 */

const DAY = 86_400_000;

describe('persister role: reaper and retention across organizations', () => {
  let db: TestDatabase;
  let persister: Persister;
  let asPersister: pg.Pool;
  const orgs: string[] = [];
  const queueName = randomName('test-roles');

  beforeAll(async () => {
    db = await createTestDatabase();
    orgs.push(await createOrganization(db.pool, 'A'), await createOrganization(db.pool, 'B'));
    asPersister = rolePool(db.url, 'voice_persister');
    persister = new Persister({
      ...persisterBase(withDatabaseRole(db.url, 'voice_persister'), queueName),
    });
  });

  afterAll(async () => {
    await persister?.close();
    await asPersister?.end();
    await obliterateQueues(queueName);
    await db?.drop();
  });

  it('reaps stale calls of every organization', async () => {
    const calls = orgs.map(() => randomUUID());
    for (const [i, org] of orgs.entries()) {
      // Started and never ended, last seen a minute ago.
      const events = callOf(org, calls[i], Date.now() - 60_000).filter((e) => e.type !== 'call.ended');
      expect((await persister.processBatch({ events })).deadLettered).toBe(0);
    }
    const reaped = await reapStaleCalls(asPersister, { staleSeconds: 30 });
    expect(reaped.map((c) => c.id).sort()).toEqual([...calls].sort());
    expect(new Set(reaped.map((c) => c.organizationId))).toEqual(new Set(orgs));
    const { rows } = await db.pool.query('SELECT status FROM conversations WHERE id = ANY($1::uuid[])', [
      calls,
    ]);
    expect(rows.map((r) => r.status)).toEqual(['INTERRUPTED', 'INTERRUPTED']);
  });

  it("archives every organization's old calls and purges old metrics", async () => {
    const calls = orgs.map(() => randomUUID());
    for (const [i, org] of orgs.entries()) {
      await persister.processBatch({ events: callOf(org, calls[i], Date.now() - 100 * DAY) });
    }
    const report = await runRetention(asPersister, {
      retentionDays: 90,
      metricsRetentionDays: 30,
      archiveRetentionDays: 365,
    });
    expect(report.archived).toBe(2);
    const archived = await db.pool.query(
      'SELECT organization_id FROM conversations_archive WHERE id = ANY($1::uuid[]) ORDER BY organization_id',
      [calls],
    );
    expect(archived.rows.map((r) => r.organization_id)).toEqual([...orgs].sort());
    const metrics = await db.pool.query(
      'SELECT 1 FROM system_metrics WHERE conversation_id = ANY($1::uuid[])',
      [calls],
    );
    expect(metrics.rowCount).toBe(0);
  });
});
