import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_JOB_NAME, EVENT_JOB_OPTIONS } from '../../../src/events/batch.js';
import { persistOldestFailingBatchSeconds } from '../../../src/observability/metrics.js';
import { Persister } from '../../../src/persistence/persister.js';
import {
  appointmentEventOf,
  countRows,
  createTestDatabase,
  obliterateQueues,
  persisterBase,
  REDIS_URL,
  randomName,
  sampleCall,
  type TestDatabase,
  waitFor,
  waitForCalls,
} from './helpers.js';

describe('persister: poison batches, failed set, sealed and expiring dead letters', () => {
  let db: TestDatabase;
  let persister: Persister;
  let queue: Queue;
  const queueName = randomName('test-poison');

  beforeAll(async () => {
    db = await createTestDatabase();
    persister = new Persister({
      ...persisterBase(db.url, queueName),
      concurrency: 1,
      retryBaseMs: 20,
      retryMaxMs: 50,
      maxUnexpectedFailures: 3,
      dlqRetentionDays: 1,
    });
    queue = new Queue(queueName, { connection: { url: REDIS_URL } });
  });

  afterAll(async () => {
    await queue?.close();
    await persister?.close();
    await obliterateQueues(queueName);
    await db?.drop();
  });

  it('splits a poison batch until the refused events are isolated; the rest commit', async () => {
    const calls = Array.from({ length: 8 }, () => sampleCall());
    // Two double bookings hidden in a batch of 80 events.
    for (const [a, b] of [
      [0, 3],
      [5, 6],
    ] as const) {
      const x = appointmentEventOf(calls[a]!).payload.data;
      const y = appointmentEventOf(calls[b]!).payload.data;
      y.appointment_date = x.appointment_date;
      y.appointment_time = x.appointment_time;
    }
    const events = calls.flat();
    const result = await persister.processBatch({ events }, 'poison-1');
    expect(result).toEqual({ written: events.length - 2, deadLettered: 2 });
    const ids = calls.map((c) => c[0]!.call_id);
    const rows = await countRows(db.pool, ids);
    expect(rows.appointments).toBe(6);
    expect(rows.conversation_turns).toBe(8);
  });

  it('keeps personal data sealed in the dead-letter queue and expires old letters', async () => {
    const [started] = sampleCall();
    const bad = { ...started!, payload: { ...started!.payload, direction: 'sideways' } };
    await persister.processBatch({ events: [bad] }, 'pii-1');
    const [stored] = await persister.dlq.queue.getJobs(['waiting'], 0, -1, true);
    expect(JSON.stringify(stored?.data)).not.toContain('010-2000');
    const opened = (await persister.dlq.list(1000)).find((l) => (l.event as { id?: string }).id === bad.id);
    expect(JSON.stringify(opened?.event)).toContain('010-2000'); // decrypted for the operator
    // Age it past the retention (1 day) and expire.
    const redis = (await persister.dlq.queue.client) as unknown as {
      hset(key: string, field: string, value: string): Promise<number>;
    };
    await redis.hset(
      `${persister.dlq.queue.keys['']}${stored!.id}`,
      'timestamp',
      String(Date.now() - 2 * 86_400_000),
    );
    expect(await persister.dlq.expire()).toBeGreaterThanOrEqual(1);
    expect((await persister.dlq.list(1000)).some((l) => l.id === stored!.id)).toBe(false);
  });

  it('stops retrying an unexpected error after maxUnexpectedFailures; dlq lists and replays the batch', async () => {
    await persister.start();
    const events = sampleCall();
    const callId = events[0]!.call_id;
    await db.pool.query('ALTER TABLE call_events RENAME TO call_events_away'); // schema drift
    try {
      await queue.add(EVENT_JOB_NAME, { events }, { ...EVENT_JOB_OPTIONS, jobId: `drift-${callId}` });
      await waitFor(
        async () => (await persistOldestFailingBatchSeconds.get()).values[0]!.value > 0,
        'failing age',
      );
      await waitFor(async () => (await queue.getFailedCount()) === 1, 'batch in the failed set', 15_000);
    } finally {
      await db.pool.query('ALTER TABLE call_events_away RENAME TO call_events');
    }
    const failed = await persister.dlq.listFailed();
    expect(failed).toEqual([expect.objectContaining({ id: `drift-${callId}`, kind: 'batch' })]);
    expect(failed[0]!.reason).toMatch(/call_events/);
    expect(await persister.dlq.replay([`drift-${callId}`])).toBe(1);
    await waitForCalls(db.pool, [callId]);
    expect(await queue.getFailedCount()).toBe(0);
    await waitFor(
      async () => (await persistOldestFailingBatchSeconds.get()).values[0]!.value === 0,
      'no failing',
    );
  });
});
