import { type ConnectionOptions, type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type pg from 'pg';
import type { Config } from '../config/config.js';
import { serviceDatabaseUrl } from '../config/service-database.js';
import { oldestBacklogAt } from '../events/backlog-report.js';
import { EVENT_BACKOFF_TYPE, maintenanceQueueName } from '../events/batch.js';
import { type CallEvent, parseEvent } from '../events/index.js';
import { closeQueueSafely, eventQueueDepth, openQueueObserver } from '../events/queue-stats.js';
import { checkRedisPersistence } from '../events/redis-durability.js';
import type { Logger } from '../observability/logger.js';
import {
  callsIncomplete,
  eventsDeadLettered,
  eventsPersisted,
  persistBatchesAbandoned,
  persistBatchSeconds,
  persistFailures,
  persistLagSeconds,
  setEventQueueDepthSampler,
} from '../observability/metrics.js';
import { withTimeout } from '../util/async.js';
import { createPool, isConnectionError } from './db.js';
import { type DeadLetter, DeadLetterQueue } from './dlq.js';
import { FailingBatches } from './failing-batches.js';
import { writeIsolating } from './isolating-write.js';
import { PiiKeyRing } from './pii.js';
import { CallReaper } from './reaper.js';
import { countIncomplete, reconcileBatch } from './reconcile.js';
import { noRecordWriters, type RecordWriterLookup } from './record-writers.js';
import { joinRedispatchedCalls } from './redispatch.js';
import { type RetentionPolicy, retentionPolicy, runRetention } from './retention.js';
import { forEachOrganization, organizationIds, withOrganization } from './tenant-scope.js';

/**
 * Consumes event batches from the BullMQ queue and writes them to Postgres. A batch is one
 * transaction; redelivery is harmless because row ids come from the events. Failure modes:
 * - Postgres unreachable: the job throws, BullMQ retries it with capped exponential backoff
 *   for as long as it takes (attempts are effectively unlimited).
 * - an invalid event, or one a constraint refuses: the batch is split until that event is
 *   alone; it goes to the dead-letter queue with its reason, the rest of the batch is written.
 * - any other error (schema drift, a bug): retried with the same backoff, but only
 *   maxUnexpectedFailures times; then the batch moves to BullMQ's failed set, where
 *   `dlq list` shows it and `dlq replay` re-queues it once the cause is fixed.
 * - the persister dies holding a batch: BullMQ's stalled check gives it to another persister
 *   after STALL_SETTINGS.lockDuration; a batch that stalled maxStalledCount times (it kills
 *   every persister that takes it) goes to the failed set too.
 */

/**
 * Chosen for a batch that takes milliseconds: a 20 s lock is renewed every 10 s by a live
 * persister, so only a dead (or 20 s frozen) one loses it; the stalled check every 10 s then
 * hands its batches on, so a SIGKILLed persister delays them by 10–30 s. Three stalls before
 * the failed set: a poison batch that crashes persisters stops after three victims.
 */
export const STALL_SETTINGS = { lockDuration: 20_000, stalledInterval: 10_000, maxStalledCount: 3 } as const;

export interface PersisterOptions {
  databaseUrl: string;
  redisUrl: string;
  queueName: string;
  pii: PiiKeyRing;
  /** Writers of the flows' own records (recordWritersOf(flowPackages)); default: none. */
  records?: RecordWriterLookup;
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
  /** Unexpected (neither data nor connection) failures of one batch before the failed set. */
  maxUnexpectedFailures?: number;
  /** Dead letters and failed batches expire after this many days (DLQ_RETENTION_DAYS). */
  dlqRetentionDays?: number;
  /** Overrides STALL_SETTINGS (tests, the chaos benchmark). */
  stall?: { lockDuration?: number; stalledInterval?: number; maxStalledCount?: number };
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
  #expiry: NodeJS.Timeout | undefined;
  #incompleteSampler: NodeJS.Timeout | undefined;
  readonly #failing = new FailingBatches();
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
    this.dlq = new DeadLetterQueue(
      options.queueName,
      this.#connection,
      options.pii,
      (options.dlqRetentionDays ?? 30) * 86_400_000,
    );
  }

  static fromConfig(
    cfg: Config,
    logger?: Logger,
    flows: { records?: RecordWriterLookup; packages?: Parameters<typeof retentionPolicy>[1] } = {},
  ): Persister {
    return new Persister({
      ...(flows.records ? { records: flows.records } : {}),
      databaseUrl: serviceDatabaseUrl(cfg, 'persister'),
      redisUrl: cfg.REDIS_URL,
      queueName: cfg.EVENT_QUEUE,
      pii: PiiKeyRing.fromConfig(cfg),
      concurrency: cfg.PERSISTER_CONCURRENCY,
      retention: retentionPolicy(cfg, flows.packages ?? []),
      reaper: { staleSeconds: cfg.REAPER_STALE_SECONDS, intervalMs: cfg.REAPER_INTERVAL_SECONDS * 1000 },
      queueMetrics: true,
      maxUnexpectedFailures: cfg.PERSISTER_MAX_UNEXPECTED_FAILURES,
      dlqRetentionDays: cfg.DLQ_RETENTION_DAYS,
      ...(logger ? { logger } : {}),
    });
  }

  /** Starts consuming; resolves once the worker is connected to Redis. Idempotent. */
  async start(): Promise<void> {
    if (this.#worker) return;
    const base = this.#opts.retryBaseMs ?? 500;
    const max = this.#opts.retryMaxMs ?? 30_000;
    this.#worker = new Worker(this.#opts.queueName, (job: Job) => this.#processJob(job), {
      connection: this.#connection,
      concurrency: this.#opts.concurrency ?? 4,
      ...STALL_SETTINGS,
      ...this.#opts.stall,
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
    this.#worker.on('completed', (job) => this.#failing.settled(job.id));
    this.#worker.on('failed', (job, err) => {
      persistFailures.inc();
      if (err instanceof UnrecoverableError || job?.finishedOn) this.#failing.settled(job?.id);
      else this.#failing.failed(job?.id);
      this.#log?.warn(
        { jobId: job?.id, attempts: job?.attemptsMade, err: err.message },
        'event batch will be retried',
      );
    });
    this.#worker.on('error', (err) => this.#log?.error({ err: err.message }, 'persister worker error'));
    await this.#worker.waitUntilReady();
    void this.#worker.client
      .then((client) => checkRedisPersistence(client, 'persister', this.#log))
      .catch(() => {});
    if (this.#opts.retention) await this.#startMaintenance(this.#opts.retention);
    this.#startDlqExpiry();
    this.#startOperations();
  }

  /** Dead letters hold (sealed) personal data: they must not outlive DLQ_RETENTION_DAYS. */
  #startDlqExpiry(): void {
    const expire = () =>
      this.dlq
        .expire()
        .then((n) => n > 0 && this.#log?.info({ removed: n }, 'expired dead letters and failed batches'))
        .catch((err) => this.#log?.warn({ err: (err as Error).message }, 'dead-letter expiry failed'));
    void expire();
    this.#expiry = setInterval(expire, 3_600_000);
    this.#expiry.unref();
    const sample = () =>
      void forEachOrganization(this.pool, (client) => countIncomplete(client))
        .then((counts) => callsIncomplete.set(counts.reduce((sum, n) => sum + n, 0)))
        .catch(() => {});
    sample();
    this.#incompleteSampler = setInterval(sample, 15_000);
    this.#incompleteSampler.unref();
  }

  /** Caps unexpected failures; outages (connection errors) are retried for as long as they last. */
  async #processJob(job: Job): Promise<BatchResult> {
    try {
      return await this.processBatch(job.data, job.id);
    } catch (err) {
      if (isConnectionError(err) || (err as { transient?: boolean }).transient) throw err;
      const data = job.data as { unexpectedFailures?: number };
      const failures = (data.unexpectedFailures ?? 0) + 1;
      if (failures >= (this.#opts.maxUnexpectedFailures ?? 10)) {
        persistBatchesAbandoned.inc();
        this.#log?.error(
          { jobId: job.id, failures, err: (err as Error).message },
          'event batch keeps failing with an unexpected error: moved to the failed set (dlq list / dlq replay)',
        );
        throw new UnrecoverableError((err as Error).message);
      }
      await job.updateData({ ...data, unexpectedFailures: failures }).catch(() => {});
      throw err;
    }
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
        backlogSince: () => withTimeout(oldestBacklogAt(observer), 2000, 'event backlog check'),
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

    // A connection error here is an outage like any other: the batch is retried.
    // Each organization's aliases under its own row-level security (a call only joins a
    // conversation of its own organization).
    let events = [...valid.values()];
    for (const organizationId of await organizationIds(this.pool)) {
      events = await withOrganization(this.pool, organizationId, (client) =>
        joinRedispatchedCalls(client, events),
      );
    }
    const rejected = await this.#write(events);
    for (const { event, reason } of rejected) {
      dead.push({ event, reason, failedAt, ...(jobId ? { sourceJobId: jobId } : {}) });
    }
    // After the commit: if Redis fails here the job is retried, rewrites nothing, and
    // dead-letters again (same DLQ job ids).
    await this.dlq.add(dead).catch((err) => {
      // Redis trouble, not the batch's: retry as long as an outage would be.
      throw Object.assign(err as Error, { transient: true });
    });
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
    await this.#reconcile(written);
    persistBatchSeconds.observe((performance.now() - started) / 1000);
    this.#opts.onPersisted?.(written, committedAt);
    return { written: written.length, deadLettered: dead.length };
  }

  /** Reconciliation is a verdict about rows already committed: its failure must not fail the batch. */
  async #reconcile(written: CallEvent[]): Promise<void> {
    if (written.length === 0) return;
    await forEachOrganization(this.pool, (client) => reconcileBatch(client, written)).catch((err) =>
      this.#log?.warn(
        { err: (err as Error).message },
        'call reconciliation failed; `voice-agent reconcile` re-checks',
      ),
    );
  }

  /** Writes the batch, isolating events the database refuses (see isolating-write.ts). */
  async #write(events: CallEvent[]): Promise<{ event: CallEvent; reason: string }[]> {
    try {
      return await writeIsolating(this.pool, events, this.#opts.pii, this.#opts.records ?? noRecordWriters);
    } catch (err) {
      if (!isConnectionError(err)) {
        // Not an outage and not bad data: most likely schema drift (run `migrate up`) or a bug.
        this.#log?.error(
          { err: (err as Error).message, code: (err as { code?: string }).code },
          'unexpected database error',
        );
      }
      throw err;
    }
  }

  /** Stops taking jobs, lets the batches in hand finish, then releases connections. */
  async close(): Promise<void> {
    await this.#reaper?.stop();
    clearInterval(this.#expiry);
    clearInterval(this.#incompleteSampler);
    this.#failing.stop();
    this.#removeDepthSampler?.();
    if (this.#observer) await closeQueueSafely(this.#observer);
    await this.#worker?.close();
    await this.#maintenanceWorker?.close();
    await this.#maintenanceQueue?.close();
    await this.dlq.close();
    await this.pool.end();
  }
}
