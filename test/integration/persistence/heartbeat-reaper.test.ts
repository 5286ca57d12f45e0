import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCallHeartbeat } from '../../../src/events/index.js';
import { EventProducer } from '../../../src/events/producer.js';
import { registry } from '../../../src/observability/metrics.js';
import { sleep } from '../../../src/util/async.js';
import { callStarted, persisterSuite, REDIS_URL, type TestDatabase, waitFor } from './helpers.js';

/**
 * End to end through Redis: a producer emits calls and heartbeats, a persister started with a
 * short reaper threshold (as a crash test would configure it) writes them and reaps. A call
 * whose heartbeats stop must become INTERRUPTED; a call that keeps beating must not, even
 * though it is silent for longer than the threshold.
 */

const STALE_SECONDS = 3;

describe('heartbeat → persister → reaper', () => {
  const suite = persisterSuite('test-heartbeat', {
    reaper: { staleSeconds: STALE_SECONDS, intervalMs: 250 },
    queueMetrics: true,
  });
  const { queueName } = suite;
  let db: TestDatabase;
  let producer: EventProducer;
  let journalDir: string;

  beforeAll(async () => {
    db = suite.db;
    journalDir = await mkdtemp(join(tmpdir(), 'va-heartbeat-'));
    await suite.persister.start();
    producer = new EventProducer({ redisUrl: REDIS_URL, queueName, journalDir, batchMs: 20 });
  });

  afterAll(async () => {
    await producer?.close();
    await rm(journalDir, { recursive: true, force: true });
  });

  const status = async (id: string) =>
    (
      await db.pool.query<{ status: string; ended_at: Date | null; last_heartbeat_at: Date }>(
        'SELECT status, ended_at, last_heartbeat_at FROM conversations WHERE id = $1',
        [id],
      )
    ).rows[0];

  const startCall = (callId: string) =>
    producer.emit(
      callStarted(callId, new Date(), { worker_id: 'worker-heartbeat-test', direction: 'simulated' }),
    );

  it('reaps the call whose heartbeats stopped, and only once they stopped', async () => {
    const alive = randomUUID();
    const dead = randomUUID();
    startCall(alive);
    startCall(dead);
    const stopAlive = startCallHeartbeat(producer, { callId: alive }, 300);
    try {
      const t0 = Date.now();
      await waitFor(
        async () => (await status(dead))?.status === 'INTERRUPTED',
        'the silent call to be reaped',
        15_000,
      );
      // Not before the threshold had passed.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(STALE_SECONDS * 1000 - 500);

      // The beating call outlives the threshold several times over without a single event
      // other than heartbeats.
      await sleep(STALE_SECONDS * 1000 * 2);
      const row = await status(alive);
      expect(row?.status).toBe('ACTIVE');
      expect(Date.now() - row!.last_heartbeat_at.getTime()).toBeLessThan(STALE_SECONDS * 1000);
    } finally {
      stopAlive();
    }

    // Its worker "dies": no more beats.
    await producer.flush();
    await waitFor(
      async () => (await status(alive))?.status === 'INTERRUPTED',
      'the call to be reaped',
      15_000,
    );
    const row = await status(alive);
    expect(row?.ended_at?.toISOString()).toBe(row?.last_heartbeat_at.toISOString());

    const timeouts = await db.pool.query<{ conversation_id: string }>(
      `SELECT conversation_id FROM call_events WHERE event_type = 'timeout' AND conversation_id = ANY($1::uuid[])`,
      [[alive, dead]],
    );
    expect(timeouts.rows.map((r) => r.conversation_id).sort()).toEqual([alive, dead].sort());

    const text = await registry.metrics();
    const reaped = Number(/^voice_agent_calls_reaped_total (\d+)/m.exec(text)?.[1]);
    expect(reaped).toBeGreaterThanOrEqual(2);
    // The persister samples the (drained) queue for /metrics.
    expect(text).toMatch(/^voice_agent_event_queue_depth 0$/m);
  });
});
