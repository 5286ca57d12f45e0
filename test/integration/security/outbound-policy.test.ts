import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isAllowed,
  OutboundPolicy,
  OutboundRefusedError,
  parseAllowlist,
} from '../../../src/outbound/policy.js';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../persistence/helpers.js';

/** The outbound allowlist (organizations column, migration 030) and the Redis rate limit. */
describe('outbound policy (real Postgres and Redis)', () => {
  let db: TestDatabase;
  const org = randomUUID();

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query(
      `INSERT INTO organizations (id, name, outbound_allowlist, outbound_calls_per_minute) VALUES ($1, 'acme', $2, 2)`,
      [org, ['+4420*']],
    );
  });
  afterAll(() => db?.drop());

  it('matches E.164 patterns only', () => {
    const p = parseAllowlist('+1555*, +4420794600');
    expect(isAllowed('+15550102000', p)).toBe(true);
    expect(isAllowed('+4420794600', p)).toBe(true);
    expect(isAllowed('+19005550100', p)).toBe(false);
    expect(isAllowed('sip:+15550102000@evil', p)).toBe(false);
    expect(() => parseAllowlist('1555*')).toThrow(/must be \+ and digits/);
  });

  it("uses the organization's own allowlist and limit, refusing with a reason that names no number", async () => {
    const policy = new OutboundPolicy({
      defaultAllowlist: '+1555*',
      callsPerMinute: 100,
      redisUrl: REDIS_URL,
      pool: db.pool,
    });
    const refusal = await policy.admit('+15550102000', org).catch((e: Error) => e);
    expect(refusal).toBeInstanceOf(OutboundRefusedError);
    expect((refusal as Error).message).toMatch(
      /^outbound_refused: number not in the organization's outbound allowlist$/,
    );
    await policy.admit('+442079460958', org);
    await policy.admit('+442079460959', org);
    await expect(policy.admit('+442079460957', org)).rejects.toThrow(
      /over its limit of 2 outbound calls per minute/,
    );
    // Another organization (no row: the deployment's defaults) has its own counter.
    await policy.admit('+15550102000', randomUUID());
  });
});

describe('voice-agent dial refuses numbers outside the allowlist (CLI process)', () => {
  it('exits non-zero with one clear line and dispatches nothing', async () => {
    const { execFile } = await import('node:child_process');
    const { CLI } = await import('../../helpers/cli-process.js');
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [CLI, 'dial', '+19005550100', '--flow', 'appointment-booking'],
        { env: { ...process.env, OUTBOUND_ALLOWLIST: '+1555*' } },
        (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim()).toBe(
      "voice-agent: outbound_refused: number not in the organization's outbound allowlist",
    );
  });
});
