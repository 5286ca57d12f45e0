import type { EventEmitter } from 'node:events';
import { Queue } from 'bullmq';
import { withTimeout } from '../util/async.js';

/**
 * Read-only views of the event queue for operations: its depth (a Prometheus gauge) and how
 * far back its backlog reaches (the reaper must not judge a call dead while that call's
 * heartbeats may still be sitting in the queue).
 */

/** A Queue handle for observing only: commands fail fast instead of waiting for Redis. */
export function openQueueObserver(redisUrl: string, queueName: string, timeoutMs = 2000): Queue {
  const queue = new Queue(queueName, {
    connection: {
      url: redisUrl,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: timeoutMs,
      retryStrategy: (times: number) => Math.min(times * 200, 2000),
    },
  });
  // Connection errors surface as failed commands where they matter; an unhandled 'error'
  // event would crash the process.
  queue.on('error', () => {});
  return queue;
}

/**
 * Closes a queue handle even while Redis is unreachable (close() would wait for QUIT). A handle
 * closed while still initializing makes BullMQ disconnect with its own init commands in flight,
 * which reject with nobody awaiting them: so wait, briefly, for it to be ready first.
 */
export async function closeQueueSafely(queue: Queue, timeoutMs = 2000): Promise<void> {
  await withTimeout(queue.waitUntilReady(), timeoutMs, 'queue ready').catch(() => undefined);
  try {
    await withTimeout(queue.close(), timeoutMs, 'queue close');
  } catch {
    const client = await withTimeout(queue.client, 100, 'redis client').catch(() => undefined);
    client?.disconnect(false);
  }
  // See EventProducer.close: a connection that never became ready re-emits its rejection.
  (queue as unknown as { connection?: EventEmitter }).connection?.on('error', () => {});
}

/**
 * Batches not yet written: waiting + delayed (retries after a failed write) + active (being
 * written), plus prioritized, which BullMQ 5 keeps apart from waiting (we never use it).
 */
export async function eventQueueDepth(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

/**
 * When the oldest batch still in the queue (waiting, being written, or waiting to be retried)
 * was added, or null when the queue is drained. Events produced after that moment may not be
 * in Postgres yet. Reads only ids and timestamps, never job data (which holds caller numbers).
 * Looks at the 100 oldest delayed and active batches: beyond that the answer is a bound that
 * errs late, i.e. toward reaping less.
 */
export async function oldestPendingEventAt(queue: Queue): Promise<Date | null> {
  const ids = [
    ...(await queue.getRanges(['waiting'], 0, 0, true)),
    ...(await queue.getRanges(['active'], 0, 99, true)),
    ...(await queue.getRanges(['delayed'], 0, 99, true)),
  ];
  if (ids.length === 0) return null;
  const client = await queue.client;
  const stamps = await Promise.all(ids.map((id) => client.hget(queue.toKey(id), 'timestamp')));
  let oldest = Number.POSITIVE_INFINITY;
  for (const value of stamps) {
    // A job finished between the two reads has no hash any more: nothing pending there.
    const t = Number(value);
    if (value !== null && Number.isFinite(t) && t > 0) oldest = Math.min(oldest, t);
  }
  return Number.isFinite(oldest) ? new Date(oldest) : null;
}
