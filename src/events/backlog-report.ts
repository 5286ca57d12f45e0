import type { Queue } from 'bullmq';
import { oldestPendingEventAt } from './queue-stats.js';

/**
 * Workers report, every few seconds, how many events they hold that are not yet in Redis (memory
 * buffer and journal) and since when, under `voice-agent:<queue>:backlog:<instance>` with a
 * short TTL. The reaper judges silence only up to the oldest such event, so a call whose
 * heartbeats sit in a worker's journal is not marked INTERRUPTED. A worker that stopped
 * reporting but whose key has not expired yet may be cut off from Redis and journaling: its
 * last report time holds the reaper back too, until the key expires (BACKLOG_TTL_MS).
 */

export const BACKLOG_REPORT_MS = 5000;
export const BACKLOG_TTL_MS = 60_000;
const STALE_MS = 3 * BACKLOG_REPORT_MS;

export interface BacklogReport {
  /** Events not yet in Redis. */
  backlog: number;
  /** occurred_at (ms) of the oldest of them, or null. */
  since: number | null;
  /** When this report was made (ms). */
  at: number;
}

interface RedisKeys {
  set(key: string, value: string, px: 'PX', ttl: number): Promise<unknown>;
  del(key: string): Promise<unknown>;
  scan(
    cursor: string,
    match: 'MATCH',
    pattern: string,
    count: 'COUNT',
    n: number,
  ): Promise<[string, string[]]>;
  mget(keys: string[]): Promise<(string | null)[]>;
}

export function backlogKey(queueName: string, instanceId: string): string {
  return `voice-agent:${queueName}:backlog:${instanceId}`;
}

/** `client`: an ioredis connection (BullMQ's `queue.client`). */
export async function publishBacklog(client: unknown, key: string, report: BacklogReport): Promise<void> {
  await (client as RedisKeys).set(key, JSON.stringify(report), 'PX', BACKLOG_TTL_MS);
}

export async function clearBacklog(client: unknown, key: string): Promise<void> {
  await (client as RedisKeys).del(key);
}

/** The earliest time up to which silence can be judged, given every worker's report. */
export async function oldestWorkerBacklogAt(
  client: unknown,
  queueName: string,
  now = Date.now(),
): Promise<Date | null> {
  const redis = client as RedisKeys;
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', backlogKey(queueName, '*'), 'COUNT', 200);
    keys.push(...found);
    cursor = next;
  } while (cursor !== '0');
  if (keys.length === 0) return null;
  let oldest: number | null = null;
  for (const raw of await redis.mget(keys)) {
    if (!raw) continue;
    const r = JSON.parse(raw) as BacklogReport;
    const hold = r.backlog > 0 && r.since !== null ? r.since : now - r.at > STALE_MS ? r.at : null;
    if (hold !== null) oldest = oldest === null ? hold : Math.min(oldest, hold);
  }
  return oldest === null ? null : new Date(oldest);
}

/** Silence is judged only up to the oldest event still queued or held by a worker. */
export async function oldestBacklogAt(observer: Queue): Promise<Date | null> {
  const [queued, held] = await Promise.all([
    oldestPendingEventAt(observer),
    observer.client.then((c) => oldestWorkerBacklogAt(c, observer.name)),
  ]);
  const times = [queued, held].filter((d): d is Date => d !== null);
  return times.length > 0 ? new Date(Math.min(...times.map((d) => d.getTime()))) : null;
}
