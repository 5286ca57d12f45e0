import { createHash } from 'node:crypto';
import { type ConnectionOptions, type Job, Queue } from 'bullmq';
import { dlqQueueName, EVENT_JOB_NAME, EVENT_JOB_OPTIONS } from '../events/batch.js';
import { closeQueueSafely } from '../events/queue-stats.js';

/**
 * Dead-letter queue for events that can never be written (invalid, or refused by a database
 * constraint), and the event queue's failed set (batches that failed with an unexpected error
 * too often, or whose persister died on them repeatedly). Nothing consumes either: entries
 * wait for a human to look (`voice-agent dlq list`), fix the cause, and replay them
 * (`voice-agent dlq replay`). Both expire after DLQ_RETENTION_DAYS.
 *
 * A dead letter keeps the event sealed with the PII cipher (it can hold caller numbers);
 * only its id, type and call id stay readable for listing.
 */

export interface DeadLetter {
  /** The event exactly as received (may not even be an object). */
  event: unknown;
  reason: string;
  sourceJobId?: string;
  failedAt: string;
}

export interface DeadLetterEntry extends DeadLetter {
  id: string;
  /** `event`: one dead-lettered event; `batch`: a whole batch in the event queue's failed set. */
  kind: 'event' | 'batch';
}

/** The part of PiiCipher dead letters use. */
export interface LetterCipher {
  encrypt(plain: string): Buffer;
  decrypt(data: Buffer): string;
}

/** What is stored in Redis for one dead letter. */
interface StoredLetter extends Omit<DeadLetter, 'event'> {
  sealed?: string;
  /** Letters written before sealing existed. */
  event?: unknown;
  eventId?: string;
  type?: string;
  callId?: string;
}

const DLQ_JOB_NAME = 'dead-letter';
const PENDING = ['waiting', 'paused', 'delayed', 'prioritized'] as const;

/** One DLQ entry per event id (or per payload if it has no id): re-dead-lettering is a no-op. */
export function deadLetterJobId(event: unknown): string {
  const id = (event as { id?: unknown } | null)?.id;
  if (typeof id === 'string' && /^[0-9a-fA-F-]{36}$/.test(id)) return `dl-${id.toLowerCase()}`;
  return `dl-${createHash('sha256')
    .update(JSON.stringify(event) ?? 'undefined')
    .digest('hex')
    .slice(0, 40)}`;
}

function label(event: unknown): Pick<StoredLetter, 'eventId' | 'type' | 'callId'> {
  const e = (event ?? {}) as { id?: unknown; type?: unknown; call_id?: unknown };
  return {
    ...(typeof e.id === 'string' ? { eventId: e.id } : {}),
    ...(typeof e.type === 'string' ? { type: e.type } : {}),
    ...(typeof e.call_id === 'string' ? { callId: e.call_id } : {}),
  };
}

export class DeadLetterQueue {
  readonly queue: Queue;
  readonly events: Queue;

  constructor(
    readonly eventQueueName: string,
    connection: ConnectionOptions,
    readonly cipher: LetterCipher,
    /** Dead letters and failed batches older than this are removed by expire(). */
    readonly retentionMs = 30 * 86_400_000,
  ) {
    this.queue = new Queue(dlqQueueName(eventQueueName), { connection });
    this.events = new Queue(eventQueueName, { connection });
  }

  async add(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    await this.queue.addBulk(
      letters.map((letter) => {
        const { event, ...rest } = letter;
        const stored: StoredLetter = {
          ...rest,
          ...label(event),
          sealed: this.cipher.encrypt(JSON.stringify(event) ?? 'null').toString('base64'),
        };
        return {
          name: DLQ_JOB_NAME,
          data: stored,
          opts: { jobId: deadLetterJobId(event), removeOnComplete: true, removeOnFail: false },
        };
      }),
    );
  }

  #open(job: Job): DeadLetterEntry {
    const { sealed, event, eventId: _id, type: _t, callId: _c, ...rest } = job.data as StoredLetter;
    let plain: unknown = event;
    if (sealed !== undefined) {
      try {
        plain = JSON.parse(this.cipher.decrypt(Buffer.from(sealed, 'base64')));
      } catch (err) {
        // Sealed under a key this process lacks: listable, not replayable.
        plain = { ...label(job.data), undecryptable: (err as Error).message };
      }
    }
    return { id: job.id ?? '', kind: 'event', ...rest, event: plain };
  }

  async list(limit = 100): Promise<DeadLetterEntry[]> {
    const jobs = await this.queue.getJobs([...PENDING], 0, limit - 1, true);
    return jobs.filter(Boolean).map((job) => this.#open(job));
  }

  /** Batches in the event queue's failed set, as entries whose event is the batch's events. */
  async listFailed(limit = 100): Promise<DeadLetterEntry[]> {
    const jobs = await this.events.getJobs(['failed'], 0, limit - 1, true);
    return jobs.filter(Boolean).map((job) => ({
      id: job.id ?? '',
      kind: 'batch',
      event: (job.data as { events?: unknown }).events,
      reason: job.failedReason ?? 'failed',
      failedAt: new Date(job.finishedOn ?? job.timestamp).toISOString(),
    }));
  }

  async count(): Promise<number> {
    return this.queue.count();
  }

  async countFailed(): Promise<number> {
    return this.events.getFailedCount();
  }

  /**
   * Puts entries (all, or those with the given ids) back on the event queue and removes them
   * here: dead letters as one-event batches, failed batches as they were. Still-bad events
   * come straight back. Returns how many entries were replayed.
   */
  async replay(ids?: string[]): Promise<number> {
    const letters = ids
      ? (await Promise.all(ids.map((id) => this.queue.getJob(id)))).filter((j) => j !== undefined)
      : await this.queue.getJobs([...PENDING], 0, -1, true);
    const failed = ids
      ? (await Promise.all(ids.map((id) => this.events.getJob(id)))).filter((j) => j !== undefined)
      : await this.events.getJobs(['failed'], 0, -1, true);
    let replayed = 0;
    for (const job of letters) {
      if (!job?.id) continue;
      const entry = this.#open(job);
      if ((entry.event as { undecryptable?: string } | null)?.undecryptable) continue;
      await this.events.add(
        EVENT_JOB_NAME,
        { events: [entry.event] },
        { ...EVENT_JOB_OPTIONS, jobId: `replay-${job.id}-${Date.now()}` },
      );
      await job.remove();
      replayed++;
    }
    for (const job of failed) {
      if (!job?.id || !(await job.isFailed())) continue;
      // A fresh count of unexpected failures: the operator says the cause is fixed.
      await job.updateData({ events: (job.data as { events?: unknown }).events });
      await job.retry('failed');
      replayed++;
    }
    return replayed;
  }

  /** Removes dead letters and failed batches older than the retention. Returns how many. */
  async expire(): Promise<number> {
    let removed = 0;
    for (const state of ['wait', 'paused', 'delayed', 'prioritized'] as const) {
      removed += (await this.queue.clean(this.retentionMs, 10_000, state)).length;
    }
    removed += (await this.events.clean(this.retentionMs, 10_000, 'failed')).length;
    return removed;
  }

  async close(): Promise<void> {
    await Promise.all([closeQueueSafely(this.queue), closeQueueSafely(this.events)]);
  }
}
