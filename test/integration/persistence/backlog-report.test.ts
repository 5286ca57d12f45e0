import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { backlogKey, oldestWorkerBacklogAt, publishBacklog } from '../../../src/events/backlog-report.js';
import { REDIS_URL, randomName } from './helpers.js';

describe('worker backlog reports (real Redis)', () => {
  const redis = new Redis(REDIS_URL);
  const queue = randomName('test-backlog');
  afterAll(async () => {
    const keys = await redis.keys(backlogKey(queue, '*'));
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('holds the reaper back to the oldest held event, and to workers that stopped reporting', async () => {
    const now = Date.now();
    expect(await oldestWorkerBacklogAt(redis, queue, now)).toBeNull();
    await publishBacklog(redis, backlogKey(queue, 'idle'), { backlog: 0, since: null, at: now });
    expect(await oldestWorkerBacklogAt(redis, queue, now)).toBeNull();
    await publishBacklog(redis, backlogKey(queue, 'journaling'), {
      backlog: 40,
      since: now - 50_000,
      at: now,
    });
    expect((await oldestWorkerBacklogAt(redis, queue, now))?.getTime()).toBe(now - 50_000);
    // Silent for 30 s but not expired: it may be cut off from Redis with a growing journal.
    await publishBacklog(redis, backlogKey(queue, 'silent'), { backlog: 0, since: null, at: now - 90_000 });
    expect((await oldestWorkerBacklogAt(redis, queue, now))?.getTime()).toBe(now - 90_000);
    expect(await redis.pttl(backlogKey(queue, 'silent'))).toBeGreaterThan(50_000);
  });
});
