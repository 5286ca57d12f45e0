import type { Logger } from '../observability/logger.js';
import { redisPersistenceEnabled } from '../observability/metrics.js';

/**
 * The event queue and the dead letters live in Redis; a Redis that persists nothing loses
 * them all on a restart. Worker and persister read the server's settings at start and warn
 * (log + voice_agent_redis_persistence_enabled = 0) when there is no persistence.
 */

export type RedisPersistence = 'aof' | 'rdb' | 'none' | 'unknown';

interface RedisLike {
  call(command: string, ...args: string[]): Promise<unknown>;
  info(section: string): Promise<string>;
}

export async function readRedisPersistence(client: RedisLike): Promise<RedisPersistence> {
  try {
    const reply = (await client.call('CONFIG', 'GET', 'appendonly')) as string[];
    const save = (await client.call('CONFIG', 'GET', 'save')) as string[];
    if (reply[1] === 'yes') return 'aof';
    return save[1]?.trim() ? 'rdb' : 'none';
  } catch {
    // Managed Redis often refuses CONFIG; INFO still says whether AOF is on.
  }
  try {
    const info = await client.info('persistence');
    return /^aof_enabled:1/m.test(info) ? 'aof' : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** `client`: an ioredis connection (BullMQ's `queue.client` is one, typed more narrowly). */
export async function checkRedisPersistence(
  client: unknown,
  role: string,
  log?: Logger,
): Promise<RedisPersistence> {
  const mode = await readRedisPersistence(client as RedisLike);
  redisPersistenceEnabled.reset();
  redisPersistenceEnabled.set({ mode }, mode === 'none' ? 0 : mode === 'unknown' ? -1 : 1);
  if (mode === 'none') {
    log?.warn(
      { role },
      'redis has no persistence (appendonly no, no save schedule): queued and dead-lettered events are lost if it restarts; run it with --appendonly yes --appendfsync everysec',
    );
  } else if (mode === 'rdb') {
    log?.warn(
      { role },
      'redis persists by snapshots only: a restart loses events queued since the last one; prefer appendonly yes',
    );
  }
  return mode;
}
