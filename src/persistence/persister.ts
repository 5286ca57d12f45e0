import { type ConnectionOptions, type Job, Queue, Worker } from 'bullmq';
import type pg from 'pg';
import type { Config } from '../config/config.js';
import { EVENT_BACKOFF_TYPE, maintenanceQueueName } from '../events/batch.js';
import { type CallEvent, parseEvent } from '../events/index.js';
import {
  closeQueueObserver,
  eventQueueDepth,
  oldestPendingEventAt,
  openQueueObserver,
  withTimeout,
} from '../events/queue-stats.js';
import type { Logger } from '../observability/logger.js';
import {
  eventsDeadLettered,
  eventsPersisted,
  persistBatchSeconds,
  persistFailures,
  persistLagSeconds,
  setEventQueueDepthSampler,
} from '../observability/metrics.js';
import { createPool, isConnectionError, isDataError, withTransaction } from './db.js';
import { type DeadLetter, DeadLetterQueue } from './dlq.js';
import { PiiCipher } from './pii.js';
import { CallReaper } from './reaper.js';
import { type RetentionPolicy, runRetention } from './retention.js';
import { writeEvents } from './writer.js';

/**
 * Consumes event batches from the BullMQ queue and writes them to Postgres. A batch is one
 * transaction; redelivery is harmless because row ids come from the events. Failure modes:
 * - Postgres unreachable: the job throws, BullMQ retries it with capped exponential backoff
 *   for as long as it takes (attempts are effectively unlimited).
 * - an invalid event, or one a constraint refuses: that event alone goes to the dead-letter
 *   queue with its reason; the rest of the batch is written.
 */

export interface PersisterOptions {
  databaseUrl: string;
  redisUrl: string;
  queueName: string;
  pii: PiiCipher;
  concurrency?: number;
  poolMax?: number;
  logger?: Logger;
  /** Backoff between retries of a batch that failed (Postgres down): base and cap in ms. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Registers the daily retention job when given (the CLI does; tests usually do not). */
  retention?: RetentionPolicy & { pattern?: string };
  /**
   * Marks ACTIVE calls whose heartbeat is older than staleSeconds INTERRUPTED, every
   * intervalMs (default 10 s). Any number of persisters may run it (see reaper.ts).
   */
  reaper?: { staleSeconds: number; intervalMs?: number };
  /** Samples the event queue's depth on each /metrics scrape (voice_agent_event_queue_depth). */
  queueMetrics?: boolean;
  /** Called after each commit, e.g. by the benchmark to measure lag exactly. */
  onPersisted?: (events: CallEvent[], committedAt: number) => void;
}

export interface BatchResult {
  written: number;
  deadLettered: number;
}

export class Persister {
  readonly pool: pg.Pool;
  readonly dlq: DeadLetterQueue;
  #worker: Worker | undefined;
  #maintenanceWorker: Worker | undefined;
  #maintenanceQueue: Queue | undefined;
  #observer: Queue | undefined;
  #reaper: CallReaper | undefined;
  #removeDepthSampler: (() => void) | undefined;
  readonly #opts: PersisterOptions;
  readonly #log: Logger | undefined;
  readonly #connection: ConnectionOptions;

  constructor(options: PersisterOptions) {
    this.#opts = options;
    this.#log = options.logger;
    this.#connection = { url: options.redisUrl, maxRetriesPerRequest: null };
    this.pool = createPool(options.databaseUrl, {
      max: options.poolMax ?? Math.max(2, (options.concurrency ?? 4) + 1),
      onError: (err) => this.#log?.warn({ err: err.message }, 'idle postgres connection lost'),
    });
    this.dlq = new DeadLetterQueue(options.queueName, this.#connection);
  }

  static fromConfig(cfg: Config, logger?: Logger): Persister {
    return new Persister({
      databaseUrl: cfg.DATABASE_URL,
      redisUrl: cfg.REDIS_URL,
      queueName: cfg.EVENT_QUEUE,
      pii: new PiiCipher(cfg.PII_ENCRYPTION_KEY, cfg.PII_HASH_KEY),
      concurrency: cfg.PERSISTER_CONCURRENCY,
      retention: {
        retentionDays: cfg.RETENTION_DAYS,
        metricsRetentionDays: cfg.METRICS_RETENTION_DAYS,
        archiveRetentionDays: cfg.ARCHIVE_RETENTION_DAYS,
      },
      reaper: { staleSeconds: cfg.REAPER_STALE_SECONDS, intervalMs: cfg.REAPER_INTERVAL_SECONDS * 1000 },
      queueMetrics: true,
      ...(logger ? { logger } : {}),
    });
  }

  /** Starts consuming; resolves once the worker is connected to Redis. Idempotent. */
  async start(): Promise<void> {
    if (this.#worker) return;
    const base = this.#opts.retryBaseMs ?? 500;
    const max = this.#opts.retryMaxMs ?? 30_000;
    this.#worker = new Worker(this.#opts.queueName, (job: Job) => this.processBatch(job.data, job.id), {
      connection: this.#connection,
      concurrency: this.#opts.concurrency ?? 4,
      settings: {
        // Capped so a long outage still retries every `max` ms, jittered so a fleet of
        // persisters does not hammer a recovering database in lockstep.
        backoffStrategy: (attemptsMade: number, type?: string) => {
          if (type !== EVENT_BACKOFF_TYPE) return base;
          const delay = Math.min(max, base * 2 ** Math.max(0, attemptsMade - 1));
          return Math.round(delay * (0.75 + Math.random() * 0.5));
        },
      },
    });
    this.#worker.on('failed', (job, err) => {
      persistFailures.inc();
      this.#log?.warn(
        { jobId: job?.id, attempts: job?.attemptsMade, err: err.message },
        'event batch will be retried',
      );
    });
    this.#worker.on('error', (err) => this.#log?.error({ err: err.message }, 'persister worker error'));
    await this.#worker.waitUntilReady();
    if (this.#opts.retention) await this.#startMaintenance(this.#opts.retention);
    this.#startOperations();
  }

  /** Queue-depth sampling and the reaper; both only read the queue, never block on Redis. */
  #startOperations(): void {
    const { reaper, queueMetrics } = this.#opts;
    if (!reaper && !queueMetrics) return;
    const observer = openQueueObserver(this.#opts.redisUrl, this.#opts.queueName);
    this.#observer = observer;
    if (queueMetrics) this.#removeDepthSampler = setEventQueueDepthSampler(() => eventQueueDepth(observer));
    if (reaper) {
      this.#reaper = new CallReaper({
        pool: this.pool,
        staleSeconds: reaper.staleSeconds,
        intervalMs: reaper.intervalMs ?? 10_000,
        backlogSince: () => withTimeout(oldestPendingEventAt(observer), 2000, 'event backlog check'),
        ...(this.#log ? { logger: this.#log } : {}),
      });
      this.#reaper.start();
    }
  }

  /** The periodic reaper (when configured), e.g. for a test to run a pass now. */
  get reaper(): CallReaper | undefined {
    return this.#reaper;
  }

  async #startMaintenance(policy: RetentionPolicy & { pattern?: string }): Promise<void> {
    const name = maintenanceQueueName(this.#opts.queueName);
    this.#maintenanceQueue = new Queue(name, { connection: this.#connection });
    // A job scheduler is idempotent across persisters: however many start, one job per day.
    await this.#maintenanceQueue.upsertJobScheduler(
      'retention-daily',
      { pattern: policy.pattern ?? '17 3 * * *', tz: 'UTC' },
      { name: 'retention', opts: { removeOnComplete: 30, removeOnFail: 30 } },
    );
    this.#maintenanceWorker = new Worker(
      name,
      async () => {
        const report = await runRetention(this.pool, policy);
        this.#log?.info(report, 'retention run finished');
        return report;
      },
      { connection: this.#connection, concurrency: 1 },
    );
    this.#maintenanceWorker.on('error', (err) =>
      this.#log?.error({ err: err.message }, 'maintenance worker error'),
    );
  }

  /**
   * Validates and writes one batch. Throws only when the batch should be retried as a whole
   * (database unreachable or an unexpected database error); invalid events never throw.
   */
  async processBatch(data: unknown, jobId?: string): Promise<BatchResult> {
    const started = performance.now();
    const dead: DeadLetter[] = [];
    const failedAt = new Date().toISOString();
    const raw = (data as { events?: unknown } | null)?.events;
    const valid = new Map<string, CallEvent>();
    if (!Array.isArray(raw)) {
      dead.push({
        event: data,
        reason: 'job data has no events array',
        failedAt,
        ...(jobId ? { sourceJobId: jobId } : {}),
      });
    } else {
      for (const item of raw) {
        const parsed = parseEvent(item);
        if (parsed.ok) valid.set(parsed.event.id.toLowerCase(), parsed.event);
        else
          dead.push({
            event: item,
            reason: parsed.reason,
            failedAt,
            ...(jobId ? { sourceJobId: jobId } : {}),
          });
      }
    }

    const events = [...valid.values()];
    const rejected = await this.#write(events);
    for (const { event, reason } of rejected) {
      dead.push({ event, reason, failedAt, ...(jobId ? { sourceJobId: jobId } : {}) });
    }
    // After the commit: if Redis fails here the job is retried, rewrites nothing, and
    // dead-letters again (same DLQ job ids).
    await this.dlq.add(dead);
    if (dead.length > 0) {
      eventsDeadLettered.inc(dead.length);
      this.#log?.warn(
        { jobId, count: dead.length, reasons: [...new Set(dead.map((d) => d.reason))].slice(0, 3) },
        'events moved to the dead-letter queue',
      );
    }

    const committedAt = Date.now();
    const rejectedIds = new Set(rejected.map((r) => r.event.id));
    const written = events.filter((e) => !rejectedIds.has(e.id));
    for (const e of written) {
      eventsPersisted.inc({ type: e.type });
      persistLagSeconds.observe(Math.max(0, committedAt - Date.parse(e.occurred_at)) / 1000);
    }
    persistBatchSeconds.observe((performance.now() - started) / 1000);
    this.#opts.onPersisted?.(written, committedAt);
    return { written: written.length, deadLettered: dead.length };
  }

  /** Writes all events in one transaction; if the database refuses some, isolates them. */
  async #write(events: CallEvent[]): Promise<{ event: CallEvent; reason: string }[]> {
    if (events.length === 0) return [];
    try {
      await withTransaction(this.pool, (client) => writeEvents(client, events, this.#opts.pii));
      return [];
    } catch (err) {
      if (!isDataError(err)) throw this.#retryable(err);
    }
    // Rare path: some event violates a constraint. One transaction per event finds it
    // without losing the others.
    const rejected: { event: CallEvent; reason: string }[] = [];
    for (const event of events) {
      try {
        await withTransaction(this.pool, (client) => writeEvents(client, [event], this.#opts.pii));
      } catch (err) {
        if (!isDataError(err)) throw this.#retryable(err);
        const e = err as { message: string; code?: string; constraint?: string };
        rejected.push({
          event,
          reason: `rejected by database (${e.code}${e.constraint ? ` ${e.constraint}` : ''}): ${e.message}`,
        });
      }
    }
    return rejected;
  }

  #retryable(err: unknown): Error {
    const e = err instanceof Error ? err : new Error(String(err));
    if (!isConnectionError(err)) {
      // Not an outage and not bad data: most likely schema drift (run `migrate up`) or a bug.
      this.#log?.error(
        { err: e.message, code: (err as { code?: string }).code },
        'unexpected database error',
      );
    }
    return e;
  }

  /** Stops taking jobs, lets the batches in hand finish, then releases connections. */
  async close(): Promise<void> {
    await this.#reaper?.stop();
    this.#removeDepthSampler?.();
    if (this.#observer) await closeQueueObserver(this.#observer);
    await this.#worker?.close();
    await this.#maintenanceWorker?.close();
    await this.#maintenanceQueue?.close();
    await this.dlq.close();
    await this.pool.end();
  }
}
