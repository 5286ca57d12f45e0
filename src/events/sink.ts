import type { CallEvent } from './schemas.js';

/**
 * What the worker emits call facts into. emit() must never block or throw on the real-time
 * path; flush() resolves once everything emitted so far is durable (queued or journaled).
 */
export interface EventSink {
  emit(event: CallEvent): void;
  flush(): Promise<void>;
}

/** Keeps events in memory: for tests and for `simulate` runs without Redis. */
export class MemoryEventSink implements EventSink {
  readonly events: CallEvent[] = [];

  emit(event: CallEvent): void {
    this.events.push(event);
  }

  async flush(): Promise<void> {}

  ofType<T extends CallEvent['type']>(type: T): Extract<CallEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<CallEvent, { type: T }> => e.type === type);
  }
}

/** Discards everything (explicit opt-out of persistence). */
export class NullEventSink implements EventSink {
  emit(_event: CallEvent): void {}
  async flush(): Promise<void> {}
}

/**
 * Passes events through and counts them by type, so a call can state at its end exactly what
 * it handed to the producer (the worker logs it; the drain test compares it with Postgres).
 */
export class CountingSink implements EventSink {
  readonly counts: Partial<Record<CallEvent['type'], number>> = {};

  constructor(private readonly inner: EventSink) {}

  emit(event: CallEvent): void {
    this.counts[event.type] = (this.counts[event.type] ?? 0) + 1;
    this.inner.emit(event);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }
}
