import { createHash } from 'node:crypto';
import { type ConnectionOptions, Queue } from 'bullmq';
import { dlqQueueName, EVENT_JOB_NAME, EVENT_JOB_OPTIONS } from '../events/batch.js';

/**
 * Dead-letter queue for events that can never be written (invalid, or refused by a database
 * constraint). Nothing consumes it: entries wait for a human to look (`voice-agent dlq list`),
 * fix the cause, and replay them onto the event queue (`voice-agent dlq replay`).
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
}

const DLQ_JOB_NAME = 'dead-letter';

/** One DLQ entry per event id (or per payload if it has no id): re-dead-lettering is a no-op. */
export function deadLetterJobId(event: unknown): string {
  const id = (event as { id?: unknown } | null)?.id;
  if (typeof id === 'string' && /^[0-9a-fA-F-]{36}$/.test(id)) return `dl-${id.toLowerCase()}`;
  return `dl-${createHash('sha256')
    .update(JSON.stringify(event) ?? 'undefined')
    .digest('hex')
    .slice(0, 40)}`;
}

export class DeadLetterQueue {
  readonly queue: Queue;

  constructor(
    readonly eventQueueName: string,
    connection: ConnectionOptions,
  ) {
    this.queue = new Queue(dlqQueueName(eventQueueName), { connection });
  }

  async add(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    await this.queue.addBulk(
      letters.map((letter) => ({
        name: DLQ_JOB_NAME,
        data: letter,
        opts: { jobId: deadLetterJobId(letter.event), removeOnComplete: true, removeOnFail: false },
      })),
    );
  }

  async list(limit = 100): Promise<DeadLetterEntry[]> {
    const jobs = await this.queue.getJobs(
      ['waiting', 'paused', 'delayed', 'prioritized'],
      0,
      limit - 1,
      true,
    );
    return jobs.filter(Boolean).map((job) => ({ id: job.id ?? '', ...(job.data as DeadLetter) }));
  }

  async count(): Promise<number> {
    return this.queue.count();
  }

  /**
   * Puts entries (all, or those with the given ids) back on the event queue as one-event
   * batches and removes them from the DLQ. Still-bad events come straight back here.
   */
  async replay(ids?: string[]): Promise<number> {
    const entries = ids
      ? (await Promise.all(ids.map((id) => this.queue.getJob(id)))).filter((j) => j !== undefined)
      : await this.queue.getJobs(['waiting', 'paused', 'delayed', 'prioritized'], 0, -1, true);
    const target = new Queue(this.eventQueueName, { connection: this.queue.opts.connection });
    try {
      let replayed = 0;
      for (const job of entries) {
        if (!job?.id) continue;
        const letter = job.data as DeadLetter;
        await target.add(
          EVENT_JOB_NAME,
          { events: [letter.event] },
          { ...EVENT_JOB_OPTIONS, jobId: `replay-${job.id}-${Date.now()}` },
        );
        await job.remove();
        replayed++;
      }
      return replayed;
    } finally {
      await target.close();
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
