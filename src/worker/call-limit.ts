import { Redis } from 'ioredis';
import type pg from 'pg';
import type { Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { withOrganization } from '../persistence/tenant-scope.js';
import { workerRolePool } from './worker-pool.js';

/**
 * Each organization's concurrent-call limit (organizations.max_agents), shared by every worker:
 * a Redis sorted set per organization of its calls in progress, each with an expiry its call
 * refreshes while it lasts, so a worker that dies frees its calls within LEASE_MS. Admission is
 * one Lua script (drop expired, count, add), atomic across workers.
 */

export const LEASE_MS = 60_000;
export const REFRESH_MS = 20_000;

const ADMIT = `
local key, now, lease, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if not redis.call('ZSCORE', key, member) and redis.call('ZCARD', key) >= limit then
  return 0
end
redis.call('ZADD', key, now + lease, member)
redis.call('PEXPIRE', key, lease * 2)
return 1`;

export class CallLimitError extends Error {
  override name = 'CallLimitError';
}

const keyOf = (organizationId: string) => `va:active-calls:${organizationId}`;

export class OrganizationCallLimit {
  readonly #redis: Redis;

  constructor(redisUrl: string) {
    this.#redis = new Redis(redisUrl, {
      maxRetriesPerRequest: 1,
      lazyConnect: true,
      enableOfflineQueue: true,
    });
    this.#redis.on('error', () => undefined);
  }

  /** Takes a place for the call; false when the organization has `limit` calls already. */
  async admit(organizationId: string, callId: string, limit: number, now = Date.now()): Promise<boolean> {
    const admitted = await this.#redis.eval(ADMIT, 1, keyOf(organizationId), now, LEASE_MS, limit, callId);
    return admitted === 1;
  }

  /** Keeps the call's place (its lease) while the call goes on. */
  async refresh(organizationId: string, callId: string, now = Date.now()): Promise<void> {
    await this.#redis.zadd(keyOf(organizationId), 'XX', now + LEASE_MS, callId);
  }

  async release(organizationId: string, callId: string): Promise<void> {
    await this.#redis.zrem(keyOf(organizationId), callId);
  }

  /** The organization's calls in progress now. */
  async active(organizationId: string, now = Date.now()): Promise<number> {
    return this.#redis.zcount(keyOf(organizationId), now, '+inf');
  }

  close(): void {
    this.#redis.disconnect();
  }
}

/** organizations.max_agents, read in the organization's own scope (RLS). */
export async function maxConcurrentCalls(pool: pg.Pool, organizationId: string): Promise<number | undefined> {
  const row = await withOrganization(pool, organizationId, (client) =>
    client.query<{ max_agents: number }>('SELECT max_agents FROM organizations WHERE id = $1', [
      organizationId,
    ]),
  );
  return row.rows[0]?.max_agents;
}

/**
 * Admits the call or throws CallLimitError (the call's end reason); returns the function that
 * releases its place. An unreachable Redis or database admits the call (and says so through
 * `warn`): the limit protects capacity, it must not take every call down with Redis.
 */
export async function admitCall(
  deps: { limit: OrganizationCallLimit; pool: pg.Pool; warn(message: string, err: unknown): void },
  organizationId: string,
  callId: string,
): Promise<() => Promise<void>> {
  let max: number | undefined;
  try {
    max = await maxConcurrentCalls(deps.pool, organizationId);
    if (max === undefined) return async () => undefined;
    if (!(await deps.limit.admit(organizationId, callId, max))) {
      throw new CallLimitError(
        `organization_call_limit: ${max} concurrent call${max === 1 ? '' : 's'} in progress`,
      );
    }
  } catch (err) {
    if (err instanceof CallLimitError) throw err;
    deps.warn('concurrent-call limit not checked', err);
    return async () => undefined;
  }
  const timer = setInterval(() => {
    deps.limit.refresh(organizationId, callId).catch(() => undefined);
  }, REFRESH_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await deps.limit.release(organizationId, callId).catch(() => undefined);
  };
}

let processLimit: OrganizationCallLimit | undefined;

/** admitCall with this process's Redis connection and worker-role pool. */
export function admitWorkerCall(cfg: Config, log: Logger, organizationId: string, callId: string) {
  processLimit ??= new OrganizationCallLimit(cfg.REDIS_URL);
  return admitCall(
    {
      limit: processLimit,
      pool: workerRolePool(cfg),
      warn: (message, err) => log.warn({ err: err instanceof Error ? err.message : String(err) }, message),
    },
    organizationId,
    callId,
  );
}
