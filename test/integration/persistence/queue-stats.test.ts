import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_JOB_NAME } from '../../../src/events/batch.js';
import { makeEvent } from '../../../src/events/index.js';
import {
  closeQueueSafely,
  eventQueueDepth,
  oldestPendingEventAt,
  openQueueObserver,
} from '../../../src/events/queue-stats.js';
import { startHttpServer } from '../../../src/observability/http.js';
import { registry, setEventQueueDepthSampler } from '../../../src/observability/metrics.js';
import { CallReaper } from '../../../src/persistence/reaper.js';
import { withTimeout } from '../../../src/util/async.js';
import {
  createTestDatabase,
  obliterateQueues,
  REDIS_URL,
  randomName,
  TcpProxy,
  type TestDatabase,
} from './helpers.js';

/** Observing the event queue (depth, backlog start) on the real Redis, and while it is gone. */

describe('event queue observation', () => {
  const queueName = randomName('test-qstats');
  let producerQueue: Queue;
  let observer: Queue;

  beforeAll(() => {
    producerQueue = new Queue(queueName, { connection: { url: REDIS_URL } });
    observer = openQueueObserver(REDIS_URL, queueName);
  });

  afterAll(async () => {
    await producerQueue?.close();
    if (observer) await closeQueueSafely(observer);
    await obliterateQueues(queueName);
  });

  it('reports depth and the oldest pending batch; an empty queue has neither', async () => {
    expect(await eventQueueDepth(observer)).toBe(0);
    expect(await oldestPendingEventAt(observer)).toBeNull();

    const now = Date.now();
    const data = { events: [makeEvent('call.heartbeat', randomUUID(), {})] };
    await producerQueue.add(EVENT_JOB_NAME, data, { timestamp: now - 5_000 });
    await producerQueue.add(EVENT_JOB_NAME, data, { timestamp: now - 1_000 });
    // A batch waiting to be retried since long ago holds the backlog start back the most.
    await producerQueue.add(EVENT_JOB_NAME, data, { timestamp: now - 60_000, delay: 60_000 });

    expect(await eventQueueDepth(observer)).toBe(3);
    expect((await oldestPendingEventAt(observer))?.getTime()).toBe(now - 60_000);

    await producerQueue.obliterate({ force: true });
    expect(await eventQueueDepth(observer)).toBe(0);
    expect(await oldestPendingEventAt(observer)).toBeNull();
  });
});

describe('while Redis is unreachable', () => {
  let proxy: TcpProxy;
  let deadObserver: Queue;
  let server: Server;
  let db: TestDatabase;

  beforeAll(async () => {
    // A proxy to Redis that is then stopped: a port where Redis used to answer.
    proxy = new TcpProxy('127.0.0.1', Number(new URL(REDIS_URL).port || 6379));
    await proxy.start();
    await proxy.stop();
    deadObserver = openQueueObserver(proxy.urlFor(REDIS_URL), randomName('test-qstats-dead'), 500);
    server = await startHttpServer(0, registry, { ready: () => ({ ready: true }) }, '127.0.0.1');
    db = await createTestDatabase();
  });

  afterAll(async () => {
    setEventQueueDepthSampler(undefined);
    server?.close();
    if (deadObserver) await closeQueueSafely(deadObserver, 200);
    await db?.drop();
  });

  it('/metrics still answers promptly, with the queue depth gauge present', async () => {
    setEventQueueDepthSampler(() => eventQueueDepth(deadObserver), 300);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const res = await fetch(url);
      const body = await res.text();
      expect(res.status).toBe(200);
      expect(performance.now() - t0).toBeLessThan(3000); // timeout 300 ms; the rest is a busy CI host
      expect(body).toContain('# TYPE voice_agent_event_queue_depth gauge');
    }
    const body = await (await fetch(url)).text();
    expect(body).toMatch(/voice_agent_errors_total\{type="queue_depth_(timeout|sample)"\} [1-9]/);
  });

  it('the reaper skips its pass rather than judge calls it cannot see the backlog of', async () => {
    const callId = randomUUID();
    await db.pool.query(
      `INSERT INTO conversations (id, session_id, room_name, status, started_at, last_heartbeat_at)
       VALUES ($1::uuid, $1::text, 'r', 'ACTIVE', now() - interval '10 minutes', now() - interval '10 minutes')`,
      [callId],
    );
    const reaper = new CallReaper({
      pool: db.pool,
      staleSeconds: 1,
      intervalMs: 60_000,
      backlogSince: () => withTimeout(oldestPendingEventAt(deadObserver), 500, 'backlog check'),
    });
    expect(await reaper.runOnce()).toEqual([]);
    const { rows } = await db.pool.query('SELECT status FROM conversations WHERE id = $1', [callId]);
    expect(rows[0]?.status).toBe('ACTIVE');

    // With the backlog known (empty), the same pass reaps it.
    const seeing = new CallReaper({
      pool: db.pool,
      staleSeconds: 1,
      intervalMs: 60_000,
      backlogSince: async () => null,
    });
    expect((await seeing.runOnce()).map((c) => c.id)).toEqual([callId]);
  });
});
