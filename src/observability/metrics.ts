import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The process-wide Prometheus registry. Every module registers its metrics here so one
 * /metrics endpoint exposes them all; add new metrics below, grouped by component.
 */
export const registry = new Registry();

// ---- event producer (worker side) -------------------------------------------------------

export const eventsEmitted = new Counter({
  name: 'voice_agent_events_emitted_total',
  help: 'Call events handed to the event producer',
  labelNames: ['type'] as const,
  registers: [registry],
});

export const eventsDropped = new Counter({
  name: 'voice_agent_events_dropped_total',
  help: 'Call events dropped because the producer buffer was full (EVENT_BUFFER_MAX)',
  registers: [registry],
});

export const eventBufferSize = new Gauge({
  name: 'voice_agent_event_buffer_size',
  help: 'Call events waiting in the producer memory buffer',
  registers: [registry],
});

export const eventJournalEvents = new Gauge({
  name: 'voice_agent_event_journal_events',
  help: 'Call events held in the on-disk journal while Redis is unreachable',
  registers: [registry],
});

export const eventJournalBytes = new Gauge({
  name: 'voice_agent_event_journal_bytes',
  help: 'Size of the on-disk event journal in bytes',
  registers: [registry],
});

export const eventBatchesQueued = new Counter({
  name: 'voice_agent_event_batches_queued_total',
  help: 'Event batches added to the queue, by path (direct or journal replay)',
  labelNames: ['path'] as const,
  registers: [registry],
});

export const eventJournalQuarantinedLines = new Counter({
  name: 'voice_agent_event_journal_quarantined_lines_total',
  help: 'Journal lines that did not decode (torn, or sealed with an unknown key), kept in quarantine-*.jsonl',
  registers: [registry],
});

export const eventJournalWriteFailures = new Counter({
  name: 'voice_agent_event_journal_write_failures_total',
  help: 'Journal appends that did not reach the disk whole (disk full, short write, I/O error); the batch stays in memory and is retried',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export const eventJournalWriteFailing = new Gauge({
  name: 'voice_agent_event_journal_write_failing',
  help: '1 while the last journal append failed (alert on it: events are held in memory only)',
  registers: [registry],
});

export const eventJournalsAdopted = new Counter({
  name: 'voice_agent_event_journals_adopted_total',
  help: 'Journals of stopped producers (or quarantine files) this process replayed',
  registers: [registry],
});

export const redisPersistenceEnabled = new Gauge({
  name: 'voice_agent_redis_persistence_enabled',
  help: '1 when the Redis holding the queues persists to disk (AOF or RDB snapshots), 0 when it does not, -1 unknown',
  labelNames: ['mode'] as const,
  registers: [registry],
});

// ---- persister ----------------------------------------------------------------------------

export const eventsPersisted = new Counter({
  name: 'voice_agent_events_persisted_total',
  help: 'Call events written (or found already written) by the persister',
  labelNames: ['type'] as const,
  registers: [registry],
});

export const eventsDeadLettered = new Counter({
  name: 'voice_agent_events_dead_lettered_total',
  help: 'Call events moved to the dead-letter queue (invalid or rejected by the database)',
  registers: [registry],
});

export const persistBatchSeconds = new Histogram({
  name: 'voice_agent_persist_batch_seconds',
  help: 'Time to write one batch of events to Postgres',
  buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

export const persistLagSeconds = new Histogram({
  name: 'voice_agent_persist_lag_seconds',
  help: 'Time from an event occurring to its row being committed in Postgres',
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  registers: [registry],
});

export const persistFailures = new Counter({
  name: 'voice_agent_persist_failures_total',
  help: 'Batches that failed to commit and were left for the queue to retry',
  registers: [registry],
});

// ---- calls (worker) -------------------------------------------------------------------------

/** How a call ended, as counted by voice_agent_calls_ended_total (a closed set: labels stay few). */
export const CALL_OUTCOMES = ['completed', 'failed', 'interrupted', 'transferred', 'timeout'] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

export const activeCalls = new Gauge({
  name: 'voice_agent_active_calls',
  help: 'Calls this process is handling right now',
  registers: [registry],
});

export const callsEnded = new Counter({
  name: 'voice_agent_calls_ended_total',
  help: 'Calls ended, by outcome (completed, failed, interrupted, transferred, timeout)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});
// Every outcome exported from the start at 0, so rate() and ratios work before the first one.
for (const outcome of CALL_OUTCOMES) callsEnded.inc({ outcome }, 0);

export const errorsTotal = new Counter({
  name: 'voice_agent_errors_total',
  help: 'Errors by type (provider_timeout, stt_error, persist_failed, ...); types are a small fixed set',
  labelNames: ['type'] as const,
  registers: [registry],
});

/** A call was accepted: call once per call, paired with exactly one callEnded. */
export function callStarted(): void {
  activeCalls.inc();
}

/** The call is over (whatever the reason). */
export function callEnded(outcome: CallOutcome): void {
  activeCalls.dec();
  callsEnded.inc({ outcome: CALL_OUTCOMES.includes(outcome) ? outcome : 'failed' });
}

/**
 * Counts one error of a type. Pass a short stable name (an error class, a stage), never a
 * message: each distinct value becomes its own time series.
 */
export function recordError(type: string): void {
  errorsTotal.inc({ type: type.slice(0, 64) || 'unknown' });
}

// ---- event queue and reaper (persister side) ------------------------------------------------

type DepthSampler = () => Promise<number>;
let depthSampler: DepthSampler | undefined;
let depthTimeoutMs = 500;
/** The sample in flight: one at a time, unless it is for a replaced sampler or long stuck. */
let depthInFlight: { sampler: DepthSampler; since: number; done: Promise<void> } | undefined;
const ABANDON_SAMPLE_MS = 30_000;

export const eventQueueDepth = new Gauge({
  name: 'voice_agent_event_queue_depth',
  help: 'Event batches not yet written: waiting + delayed (retrying) + active in the event queue',
  registers: [registry],
  // Sampled on scrape, but never allowed to hold the scrape up: a sample that takes longer than
  // the timeout (Redis down or slow) leaves the previous value and finishes in the background.
  async collect() {
    const sampler = depthSampler;
    if (!sampler) return;
    const now = Date.now();
    if (
      !depthInFlight ||
      depthInFlight.sampler !== sampler ||
      now - depthInFlight.since > ABANDON_SAMPLE_MS
    ) {
      const entry = { sampler, since: now, done: Promise.resolve() };
      entry.done = sampler()
        .then(
          (n) => {
            if (depthSampler === sampler) this.set(n);
          },
          () => recordError('queue_depth_sample'),
        )
        .finally(() => {
          if (depthInFlight === entry) depthInFlight = undefined;
        });
      depthInFlight = entry;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        recordError('queue_depth_timeout');
        resolve();
      }, depthTimeoutMs);
    });
    await Promise.race([depthInFlight.done, timedOut]);
    clearTimeout(timer);
  },
});

/**
 * Installs (or with undefined, removes) what the queue-depth gauge samples on each scrape,
 * e.g. `() => eventQueueDepth(queue)` from src/events/queue-stats.ts. Returns a function that
 * removes this sampler if it is still the installed one.
 */
export function setEventQueueDepthSampler(sampler: DepthSampler | undefined, timeoutMs = 500): () => void {
  depthSampler = sampler;
  depthTimeoutMs = timeoutMs;
  return () => {
    if (depthSampler === sampler) depthSampler = undefined;
  };
}

export const callsReaped = new Counter({
  name: 'voice_agent_calls_reaped_total',
  help: 'ACTIVE calls marked INTERRUPTED by the reaper because their heartbeat stopped',
  registers: [registry],
});

export const persistOldestFailingBatchSeconds = new Gauge({
  name: 'voice_agent_persist_oldest_failing_batch_seconds',
  help: 'Age of the oldest event batch that has failed at least once and is not yet written (0 when none)',
  registers: [registry],
});

export const persistBatchesAbandoned = new Counter({
  name: 'voice_agent_persist_batches_abandoned_total',
  help: 'Batches that kept failing with an unexpected error and were moved to the failed set (see `dlq list --failed`)',
  registers: [registry],
});

export const callsIncomplete = new Gauge({
  name: 'voice_agent_calls_incomplete',
  help: 'Ended calls whose rows do not yet match the event counts their call.ended declared',
  registers: [registry],
});
