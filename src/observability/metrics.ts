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
