import type { EventEmitter } from 'node:events';
import { Queue } from 'bullmq';
import type { Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import {
  eventBatchesQueued,
  eventBufferSize,
  eventJournalBytes,
  eventJournalEvents,
  eventJournalQuarantinedLines,
  eventJournalWriteFailing,
  eventJournalWriteFailures,
  eventsDropped,
  eventsEmitted,
} from '../observability/metrics.js';
import { PiiKeyRing } from '../persistence/pii.js';
import { withTimeout } from '../util/async.js';
import { BACKLOG_REPORT_MS, backlogKey, clearBacklog, publishBacklog } from './backlog-report.js';
import { batchJobId, EVENT_JOB_NAME, EVENT_JOB_OPTIONS, type EventBatchJob } from './batch.js';
import {
  defaultInstanceId,
  EventJournal,
  type JournalCipher,
  type JournalEntry,
  JournalWriteError,
  writeQuarantine,
} from './journal.js';
import { replayAdoptedJournals } from './journal-replay.js';
import { makeEvent } from './model.js';
import { checkRedisPersistence } from './redis-durability.js';
import type { CallEvent } from './schemas.js';
import type { EventSink } from './sink.js';

/**
 * The worker's EventSink: emit() only pushes onto an in-memory buffer; a single background
 * pump ships the buffer to BullMQ in batches. While Redis is unreachable, batches are
 * appended to an on-disk journal instead and replayed, in order, once Redis answers again.
 * Memory is bounded by bufferMax; events beyond it are dropped, counted and logged — never
 * silently, and never below the bound.
 */

export interface ProducerOptions {
  redisUrl: string;
  queueName: string;
  journalDir: string;
  batchMs?: number;
  batchMax?: number;
  bufferMax?: number;
  /** How long one queue add may take before Redis counts as unreachable. */
  addTimeoutMs?: number;
  /** How often to check whether Redis is back while journaling. */
  probeMs?: number;
  logger?: Logger;
  /** Names the journal file (EVENT_JOURNAL_INSTANCE_ID); default the host name. */
  instanceId?: string;
  /** Seals journal lines (they can hold caller numbers); fromConfig passes the PII cipher. */
  journalCipher?: JournalCipher;
  /** How often to look for journals of stopped producers (and quarantined lines) to replay. */
  rescanMs?: number;
  /** How long close() keeps retrying a journal that cannot be written (disk full). */
  closeRetryMs?: number;
}

export interface ProducerStats {
  mode: 'direct' | 'journal';
  buffered: number;
  inFlight: number;
  journalEvents: number;
  journalBytes: number;
  dropped: number;
  /** True while the last journal append failed: events are held in memory only. */
  journalFailing: boolean;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class EventProducer implements EventSink {
  readonly #opts: Required<Omit<ProducerOptions, 'logger' | 'instanceId' | 'journalCipher'>>;
  readonly #log: Logger | undefined;
  readonly #queue: Queue;
  readonly #journal: EventJournal;
  readonly #timer: NodeJS.Timeout;
  #probe: NodeJS.Timeout | undefined;
  #probing = false;
  #buffer: CallEvent[] = [];
  #inFlight = 0;
  #mode: 'direct' | 'journal' = 'direct';
  #rescan: NodeJS.Timeout;
  #report: NodeJS.Timeout;
  readonly #backlogKey: string;
  /** occurred_at (ms) of the oldest event in the journal, while it holds any. */
  #journalSince: number | null = null;
  #scanDue = true;
  #journalFailing = false;
  #pumping: Promise<void> | null = null;
  #kickScheduled = false;
  #closed = false;
  /** Sequence numbers of accepted events: flush() waits until durable catches up. */
  #acceptedSeq = 0;
  #durableSeq = 0;
  #waiters: Waiter[] = [];
  #dropped = 0;
  /** Calls seen emitting and not yet ended (call id → organization), for interruptOpenCalls(). */
  readonly #openCalls = new Map<string, string | undefined>();

  constructor(options: ProducerOptions) {
    this.#opts = {
      redisUrl: options.redisUrl,
      queueName: options.queueName,
      journalDir: options.journalDir,
      batchMs: options.batchMs ?? 100,
      batchMax: options.batchMax ?? 100,
      bufferMax: options.bufferMax ?? 100_000,
      addTimeoutMs: options.addTimeoutMs ?? 2000,
      probeMs: options.probeMs ?? 1000,
      rescanMs: options.rescanMs ?? 30_000,
      closeRetryMs: options.closeRetryMs ?? 10_000,
    };
    this.#log = options.logger;
    // No offline queue: while Redis is down a command must fail now (and go to the journal),
    // not wait invisibly in ioredis memory.
    this.#queue = new Queue(options.queueName, {
      connection: {
        url: options.redisUrl,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: this.#opts.addTimeoutMs,
        retryStrategy: (times: number) => Math.min(times * 200, 2000),
      },
    });
    this.#queue.on('error', (err) => this.#log?.debug({ err: err.message }, 'event queue redis error'));
    void this.#queue.client
      .then((client) => checkRedisPersistence(client, 'worker', this.#log))
      .catch(() => {});
    this.#journal = new EventJournal(
      options.journalDir,
      options.instanceId ?? defaultInstanceId(),
      options.journalCipher,
    );
    // Producers die without replaying (SIGKILL, a lost disk come back): look again now and then.
    this.#rescan = setInterval(() => {
      this.#scanDue = true;
      void this.#kick().catch(() => {});
    }, this.#opts.rescanMs);
    this.#rescan.unref();
    this.#backlogKey = backlogKey(options.queueName, options.instanceId ?? defaultInstanceId());
    this.#report = setInterval(() => void this.#reportBacklog(), BACKLOG_REPORT_MS);
    this.#report.unref();
    this.#timer = setInterval(() => void this.#kick().catch(() => {}), this.#opts.batchMs);
    this.#timer.unref();
  }

  static fromConfig(cfg: Config, logger?: Logger): EventProducer {
    return new EventProducer({
      redisUrl: cfg.REDIS_URL,
      queueName: cfg.EVENT_QUEUE,
      journalDir: cfg.EVENT_JOURNAL_DIR,
      batchMs: cfg.EVENT_BATCH_MS,
      batchMax: cfg.EVENT_BATCH_MAX,
      bufferMax: cfg.EVENT_BUFFER_MAX,
      journalCipher: PiiKeyRing.fromConfig(cfg),
      instanceId: cfg.EVENT_JOURNAL_INSTANCE_ID ?? defaultInstanceId(),
      ...(logger ? { logger } : {}),
    });
  }

  /** Synchronous and O(1): safe on the audio path. */
  emit(event: CallEvent): void {
    if (this.#closed || this.#buffer.length + this.#inFlight >= this.#opts.bufferMax) {
      this.#drop(event);
      return;
    }
    if (event.type === 'call.ended') this.#openCalls.delete(event.call_id);
    else if (!this.#openCalls.has(event.call_id)) this.#openCalls.set(event.call_id, event.organization_id);
    this.#buffer.push(event);
    this.#acceptedSeq++;
    eventsEmitted.inc({ type: event.type });
    eventBufferSize.set(this.#buffer.length + this.#inFlight);
    if (this.#buffer.length >= this.#opts.batchMax && !this.#kickScheduled) {
      this.#kickScheduled = true;
      setImmediate(() => {
        this.#kickScheduled = false;
        void this.#kick().catch(() => {});
      });
    }
  }

  /** Resolves once every event emitted before the call is in Redis or in the journal. */
  async flush(): Promise<void> {
    const seq = this.#acceptedSeq;
    if (this.#durableSeq >= seq) return;
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ seq, resolve, reject }));
    void this.#kick().catch(() => {});
    return done;
  }

  /** Flushes, then releases Redis and the journal file (a non-empty journal stays on disk). */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#flushRetryingDisk();
    } finally {
      this.#closed = true;
      clearInterval(this.#timer);
      clearInterval(this.#rescan);
      clearInterval(this.#report);
      // A clean exit with nothing held: no reason for the reaper to wait on this worker.
      if (this.backlog() === 0) {
        await withTimeout(
          this.#queue.client.then((c) => clearBacklog(c, this.#backlogKey)),
          this.#opts.addTimeoutMs,
          'backlog clear',
        ).catch(() => {});
      }
      if (this.#probe) clearInterval(this.#probe);
      await this.#pumping?.catch(() => {});
      const lost = this.#buffer.length + this.#inFlight;
      if (lost > 0) {
        // Neither Redis nor the journal took them and the process is going away.
        this.#dropped += lost;
        eventsDropped.inc(lost);
        this.#log?.error({ lost }, 'event producer closed with undeliverable call events');
      }
      await this.#journal.close();
      // close() sends QUIT and waits for Redis; during an outage drop the socket instead.
      await withTimeout(this.#queue.close(), this.#opts.addTimeoutMs, 'queue close').catch(async () => {
        const client = await withTimeout(this.#queue.client, 100, 'redis client').catch(() => undefined);
        client?.disconnect(false);
      });
      // BullMQ removes its connection's listeners on close, yet a connection that never became
      // ready rejects afterwards and re-emits that as 'error'; without a listener that would
      // surface as an unhandled rejection in the host process.
      (this.#queue as unknown as { connection?: EventEmitter }).connection?.on('error', () => {});
    }
  }

  /**
   * Closes the record of every call that emitted here and has not ended (the host's close
   * cap expired with calls still running): one call.ended INTERRUPTED each, before close(),
   * so no call is left ACTIVE; what they emit after close() is dropped and counted.
   */
  interruptOpenCalls(reason: string): number {
    const endedAt = new Date();
    const open = [...this.#openCalls];
    for (const [callId, organizationId] of open) {
      this.emit(
        makeEvent(
          'call.ended',
          callId,
          { status: 'INTERRUPTED', reason, ended_at: endedAt.toISOString() },
          { ...(organizationId ? { organizationId } : {}), occurredAt: endedAt },
        ),
      );
    }
    return open.length;
  }

  /** A full disk may clear (logs rotated, space freed): keep trying until closeRetryMs. */
  async #flushRetryingDisk(): Promise<void> {
    const deadline = Date.now() + this.#opts.closeRetryMs;
    for (;;) {
      try {
        return await this.flush();
      } catch (err) {
        if (!(err instanceof JournalWriteError) || Date.now() >= deadline) throw err;
        await new Promise((r) => setTimeout(r, Math.min(500, this.#opts.batchMs * 5)));
      }
    }
  }

  /** Events not yet in Redis (memory and journal): reported to the reaper (backlog-report.ts). */
  backlog(): number {
    return this.#buffer.length + this.#inFlight + this.#journal.events;
  }

  /** occurred_at (ms) of the oldest event not yet in Redis, or null. */
  backlogSince(): number | null {
    const buffered = this.#buffer[0] ? Date.parse(this.#buffer[0].occurred_at) : null;
    const held = [this.#journalSince, buffered].filter((t): t is number => t !== null);
    return held.length > 0 ? Math.min(...held) : null;
  }

  async #reportBacklog(): Promise<void> {
    if (this.#mode !== 'direct') return; // Redis is away: the stale report speaks for us
    const report = { backlog: this.backlog(), since: this.backlogSince(), at: Date.now() };
    await withTimeout(
      this.#queue.client.then((c) => publishBacklog(c, this.#backlogKey, report)),
      this.#opts.addTimeoutMs,
      'backlog report',
    ).catch(() => {});
  }

  stats(): ProducerStats {
    return {
      mode: this.#mode,
      buffered: this.#buffer.length,
      inFlight: this.#inFlight,
      journalEvents: this.#journal.events,
      journalBytes: this.#journal.bytes,
      dropped: this.#dropped,
      journalFailing: this.#journalFailing,
    };
  }

  #drop(event: CallEvent): void {
    this.#dropped++;
    eventsDropped.inc();
    // First drop and then every 1000th: loud enough to notice, not enough to flood the log.
    if (this.#dropped % 1000 === 1) {
      this.#log?.warn(
        { dropped: this.#dropped, bufferMax: this.#opts.bufferMax, type: event.type, closed: this.#closed },
        'event buffer full: dropping call events',
      );
    }
  }

  #kick(): Promise<void> {
    if (!this.#pumping) {
      this.#pumping = this.#pump().finally(() => {
        this.#pumping = null;
      });
    }
    return this.#pumping;
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        if (this.#mode === 'direct' && !(await this.#replayJournals())) this.#enterJournalMode();
        if (this.#buffer.length === 0) break;
        const events = this.#buffer;
        this.#buffer = [];
        this.#inFlight += events.length;
        for (let i = 0; i < events.length; i += this.#opts.batchMax) {
          const batch = events.slice(i, i + this.#opts.batchMax);
          try {
            await this.#deliver(batch);
          } catch (err) {
            // Neither Redis nor disk took it: put everything not yet delivered back in front.
            this.#inFlight -= events.length - i;
            this.#buffer = events.slice(i).concat(this.#buffer);
            throw err;
          }
          this.#inFlight -= batch.length;
          this.#advance(batch.length);
        }
      }
    } catch (err) {
      this.#log?.error({ err: (err as Error).message }, 'event producer could not queue or journal a batch');
      for (const w of this.#waiters.splice(0)) w.reject(err as Error);
      throw err;
    } finally {
      eventBufferSize.set(this.#buffer.length + this.#inFlight);
      eventJournalEvents.set(this.#journal.events);
      eventJournalBytes.set(this.#journal.bytes);
    }
  }

  #advance(n: number): void {
    this.#durableSeq += n;
    if (this.#waiters.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => {
      if (w.seq > this.#durableSeq) return true;
      w.resolve();
      return false;
    });
  }

  async #deliver(events: CallEvent[]): Promise<void> {
    const entry: JournalEntry = { jobId: batchJobId(events), events };
    if (this.#mode === 'direct') {
      try {
        await this.#add(entry);
        eventBatchesQueued.inc({ path: 'direct' });
        return;
      } catch (err) {
        this.#log?.warn({ err: (err as Error).message }, 'redis unreachable: journaling call events to disk');
        this.#enterJournalMode();
      }
    }
    try {
      await this.#journal.append(entry);
      this.#journalSince ??= Math.min(...entry.events.map((e) => Date.parse(e.occurred_at)));
    } catch (err) {
      if (err instanceof JournalWriteError) {
        eventJournalWriteFailures.inc({ reason: err.reason });
        eventJournalWriteFailing.set(1);
        this.#journalFailing = true;
      }
      throw err;
    }
    if (this.#journalFailing) {
      this.#journalFailing = false;
      eventJournalWriteFailing.set(0);
      this.#log?.info('event journal writable again');
    }
  }

  async #add(entry: JournalEntry): Promise<void> {
    const add = async () => {
      await this.#queue.waitUntilReady();
      const data: EventBatchJob = { events: entry.events };
      await this.#queue.add(EVENT_JOB_NAME, data, { ...EVENT_JOB_OPTIONS, jobId: entry.jobId });
    };
    await withTimeout(add(), this.#opts.addTimeoutMs, 'queue add');
  }

  #enterJournalMode(): void {
    if (this.#mode === 'journal') return;
    this.#mode = 'journal';
    this.#probe = setInterval(() => void this.#probeRedis(), this.#opts.probeMs);
    this.#probe.unref();
  }

  async #probeRedis(): Promise<void> {
    if (this.#probing) return;
    this.#probing = true;
    try {
      const client = await withTimeout(this.#queue.client, this.#opts.addTimeoutMs, 'redis connect');
      if (client.status !== 'ready') return;
      await withTimeout(client.info(), this.#opts.addTimeoutMs, 'redis info');
    } catch {
      return;
    } finally {
      this.#probing = false;
    }
    if (this.#mode === 'direct') return;
    clearInterval(this.#probe);
    this.#probe = undefined;
    this.#mode = 'direct';
    this.#log?.info(
      { journalEvents: this.#journal.events },
      'redis reachable again: replaying event journal',
    );
    void this.#kick().catch(() => {});
  }

  /** Re-queues journaled batches (own, adopted and quarantined) in order. False if Redis failed. */
  async #replayJournals(): Promise<boolean> {
    try {
      if (this.#scanDue) {
        await this.#replayAdopted();
        this.#scanDue = false;
      }
      if (this.#journal.bytes > 0) {
        const undecodable: string[] = [];
        for await (const entry of this.#journal.entries((line) => undecodable.push(line))) {
          await this.#add(entry);
          eventBatchesQueued.inc({ path: 'journal' });
        }
        if (this.#journal.path && undecodable.length > 0) {
          await writeQuarantine(this.#journal.path, undecodable);
          eventJournalQuarantinedLines.inc(undecodable.length);
          this.#log?.error(
            { lines: undecodable.length },
            'undecodable lines of own event journal quarantined',
          );
        }
        await this.#journal.clear();
        this.#journalSince = null;
      }
      return true;
    } catch (err) {
      // Entries already re-queued will be re-queued again next time: same job ids, same row
      // ids, so the copies are harmless.
      this.#log?.warn({ err: (err as Error).message }, 'event journal replay interrupted');
      return false;
    }
  }

  #replayAdopted(): Promise<void> {
    return replayAdoptedJournals({
      dir: this.#opts.journalDir,
      ...(this.#journal.path ? { ownPath: this.#journal.path } : {}),
      ...(this.#journal.cipher ? { cipher: this.#journal.cipher } : {}),
      add: (entry) => this.#add(entry),
      ...(this.#log ? { log: this.#log } : {}),
    });
  }
}
