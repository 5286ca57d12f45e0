import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDatabaseRole } from '../../../src/config/service-database.js';
import { DEFAULT_ORGANIZATION_ID } from '../../../src/events/model.js';
import {
  admitCall,
  CallLimitError,
  LEASE_MS,
  OrganizationCallLimit,
} from '../../../src/worker/call-limit.js';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../persistence/helpers.js';

/**
 * Each organization's concurrent-call limit (organizations.max_agents) on the real Redis and
 * Postgres: places are taken atomically, given back at the end, and lost by a worker that died
 * (its lease runs out).
 */
describe('concurrent-call limit per organization', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let limit: OrganizationCallLimit;
  let org: string;
  const warnings: string[] = [];
  const deps = () => ({ limit, pool, warn: (message: string) => warnings.push(message) });

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: withDatabaseRole(db.url, 'voice_worker'), max: 2 });
    limit = new OrganizationCallLimit(REDIS_URL);
    org = (
      await db.pool.query<{ id: string }>(
        "INSERT INTO organizations (name, max_agents) VALUES ('Two Lines', 2) RETURNING id",
      )
    ).rows[0]!.id;
  });

  afterAll(async () => {
    limit.close();
    await pool.end();
    await db.drop();
  });

  it('admits max_agents calls at once, refuses the next with the reason, and frees a place at the end', async () => {
    const first = await admitCall(deps(), org, randomUUID());
    const second = await admitCall(deps(), org, randomUUID());
    await expect(admitCall(deps(), org, randomUUID())).rejects.toThrow(
      new CallLimitError('organization_call_limit: 2 concurrent calls in progress'),
    );
    expect(await limit.active(org)).toBe(2);
    await first();
    const third = await admitCall(deps(), org, randomUUID());
    expect(await limit.active(org)).toBe(2);
    await second();
    await third();
    expect(await limit.active(org)).toBe(0);
  });

  it('lets many workers race for the last places without going over', async () => {
    const calls = Array.from({ length: 12 }, () => randomUUID());
    const results = await Promise.all(calls.map((id) => limit.admit(org, id, 5)));
    expect(results.filter(Boolean)).toHaveLength(5);
    for (const id of calls) await limit.release(org, id);
  });

  it("frees a dead worker's place when its lease runs out", async () => {
    const now = Date.now();
    expect(await limit.admit(org, 'crashed-call', 1, now)).toBe(true);
    expect(await limit.admit(org, 'next-call', 1, now + 1000)).toBe(false);
    expect(await limit.admit(org, 'next-call', 1, now + LEASE_MS + 1)).toBe(true);
    await limit.release(org, 'next-call');
  });

  it('gives the default organization room for the whole deployment', async () => {
    const row = await db.pool.query('SELECT max_agents FROM organizations WHERE id = $1', [
      DEFAULT_ORGANIZATION_ID,
    ]);
    expect(row.rows[0].max_agents).toBeGreaterThanOrEqual(1000);
  });

  it('admits (and warns) when Redis is unreachable rather than refuse every call', async () => {
    const down = new OrganizationCallLimit('redis://127.0.0.1:1');
    try {
      const release = await admitCall({ ...deps(), limit: down }, org, randomUUID());
      await release();
      expect(warnings).toContain('concurrent-call limit not checked');
    } finally {
      down.close();
    }
  });
});
