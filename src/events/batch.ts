import { createHash } from 'node:crypto';
import type { CallEvent } from './schemas.js';

/**
 * The contract between producer and persister on the BullMQ queue: one job per batch of
 * events, named EVENT_JOB_NAME, data `{ events }`.
 */

export const EVENT_JOB_NAME = 'events';
/** Custom backoff type; the persister's Worker implements it (capped exponential + jitter). */
export const EVENT_BACKOFF_TYPE = 'capped-exponential';

export interface EventBatchJob {
  events: CallEvent[];
}

/**
 * Deterministic job id for a batch: a batch re-sent after a timeout or from the journal gets
 * the same id, so BullMQ ignores the copy while the first one is still in Redis (and the
 * persister's row ids make any later copy harmless).
 */
export function batchJobId(events: readonly { id: string }[]): string {
  const hash = createHash('sha256');
  for (const e of events) hash.update(e.id).update('\n');
  return `b-${hash.digest('hex').slice(0, 40)}`;
}

/**
 * Queue options for event batches. Attempts are effectively unlimited: a batch fails only
 * when Postgres is unreachable, and it must wait for Postgres rather than be dropped (invalid
 * events never fail a job; they go to the dead-letter queue). Completed jobs are removed at
 * once: their data (caller numbers included) has no business lingering in Redis.
 */
export const EVENT_JOB_OPTIONS = {
  attempts: 1_000_000,
  backoff: { type: EVENT_BACKOFF_TYPE, delay: 500 },
  removeOnComplete: true,
  removeOnFail: false,
} as const;

export function dlqQueueName(queueName: string): string {
  return `${queueName}-dlq`;
}

export function maintenanceQueueName(queueName: string): string {
  return `${queueName}-maintenance`;
}
