import type { z } from 'zod';
import {
  CountingSink,
  type callStartedPayload,
  DEFAULT_ORGANIZATION_ID,
  type EventSink,
  type lifecycleEventType,
  makeEvent,
} from '../events/index.js';
import type { ProviderLogContext } from './provider-log.js';

type LifecycleType = z.infer<typeof lifecycleEventType>;
type Source = 'system' | 'telephony' | 'ai' | 'customer';
export type CallStatus = 'COMPLETED' | 'FAILED' | 'INTERRUPTED';

export interface CallOutcome {
  status: CallStatus;
  reason: string;
  finalState?: string;
}

/**
 * The call's record from the worker's side: call.started, lifecycle steps (seed 003:
 * initiated → connecting → in_progress → completed | failed | timeout, plus dtmf, warning,
 * transfer, hangup) and exactly one call.ended, whatever ends the call first (the flow, the
 * caller hanging up, the maximum duration, a drain, an error). Events go to the sink (the
 * producer), which never blocks.
 */
export class CallLifecycle {
  readonly startedAt = new Date();
  #outcome: CallOutcome | undefined;
  #startedEmitted = false;

  constructor(
    private readonly sink: EventSink,
    readonly callId: string,
    /** Set from the call's route before call.started; earlier steps carry the default. */
    public organizationId: string = DEFAULT_ORGANIZATION_ID,
  ) {}

  /** Where the call's telephony provider operations are recorded (provider-log.ts). */
  get providerLog(): ProviderLogContext {
    return { sink: this.sink, callId: this.callId, organizationId: this.organizationId };
  }

  get ended(): boolean {
    return this.#outcome !== undefined;
  }

  get outcome(): CallOutcome | undefined {
    return this.#outcome;
  }

  step(type: LifecycleType, source: Source = 'system', data?: Record<string, unknown>): void {
    this.#emit(() =>
      makeEvent(
        'call.lifecycle',
        this.callId,
        { event_type: type, source, ...(data ? { data } : {}) },
        { organizationId: this.organizationId },
      ),
    );
  }

  started(payload: z.infer<typeof callStartedPayload>): void {
    if (this.#startedEmitted) return;
    this.#startedEmitted = true;
    this.#emit(() =>
      makeEvent('call.started', this.callId, payload, {
        organizationId: this.organizationId,
        occurredAt: this.startedAt,
      }),
    );
  }

  /** Records the end once; later calls return false and change nothing. */
  end(outcome: CallOutcome): boolean {
    if (this.#outcome) return false;
    this.#outcome = outcome;
    const endedAt = new Date();
    const step: LifecycleType =
      outcome.status === 'COMPLETED' ? 'completed' : outcome.reason === 'max_duration' ? 'timeout' : 'failed';
    this.step(step, 'system', { reason: outcome.reason });
    this.#emit(() =>
      makeEvent(
        'call.ended',
        this.callId,
        {
          status: outcome.status,
          reason: outcome.reason.slice(0, 255),
          ...(outcome.finalState ? { final_state: outcome.finalState.slice(0, 100) } : {}),
          ended_at: endedAt.toISOString(),
          duration_seconds: Math.max(0, Math.round((endedAt.getTime() - this.startedAt.getTime()) / 1000)),
          ...this.#declaredCounts(),
        },
        { organizationId: this.organizationId, occurredAt: endedAt },
      ),
    );
    return true;
  }

  /** What the call handed to the sink so far, for the persister to reconcile against. */
  #declaredCounts(): { event_counts?: Record<string, number> } {
    if (!(this.sink instanceof CountingSink)) return {};
    const { 'call.heartbeat': _beats, 'call.ended': _ended, ...counts } = this.sink.counts;
    return { event_counts: counts as Record<string, number> };
  }

  #emit(make: () => Parameters<EventSink['emit']>[0]): void {
    try {
      this.sink.emit(make());
    } catch {
      // recording must never break the call; the producer counts what it drops
    }
  }
}
