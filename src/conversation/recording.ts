import { randomUUID } from 'node:crypto';
import { type EventSink, makeEvent } from '../events/index.js';
import type {
  EngineErrorRecord,
  EngineObserver,
  FlowRecord,
  SlotRecord,
  TransitionRecord,
  TurnRecord,
} from './types.js';

/** Keeps every record in memory (tests, the simulator's result). */
export class RecordingObserver implements EngineObserver {
  readonly transitions: TransitionRecord[] = [];
  readonly slots: SlotRecord[] = [];
  readonly turns: TurnRecord[] = [];
  readonly records: FlowRecord[] = [];
  readonly errors: EngineErrorRecord[] = [];

  onTransition(r: TransitionRecord): void {
    this.transitions.push(r);
  }
  onSlot(r: SlotRecord): void {
    this.slots.push(r);
  }
  onTurn(r: TurnRecord): void {
    this.turns.push(r);
  }
  onRecord(r: FlowRecord): void {
    this.records.push(r);
  }
  onError(r: EngineErrorRecord): void {
    this.errors.push(r);
  }
}

export interface EventsObserverOptions {
  sink: EventSink;
  callId: string;
  organizationId?: string;
  /** The flow running the call: its records are written by its package's writers. */
  flow: string;
  /**
   * Also emit `turn` events (and link slots to them). Off by default: in the worker the
   * pipeline's CallRecorder records turns from what was actually heard and said.
   */
  recordTurns?: boolean;
}

const clampText = (s: string, max: number) => (s.length > max ? s.slice(0, max) : s);

/**
 * Maps engine records to call events (state_transitions, extracted_slots rows, and `record`
 * events for the flow's own tables). Field names match the event payloads one to one.
 */
export function eventsObserver(options: EventsObserverOptions): EngineObserver {
  const { sink, callId } = options;
  const base = options.organizationId ? { organizationId: options.organizationId } : {};
  const turnIds = new Map<number, string>();
  const emit = (fn: () => Parameters<EventSink['emit']>[0]) => {
    try {
      sink.emit(fn());
    } catch {
      // emit must never break the call
    }
  };
  return {
    onTransition: (r) =>
      emit(() =>
        makeEvent(
          'transition',
          callId,
          {
            transition_id: randomUUID(),
            from_state: r.from_state === null ? null : clampText(r.from_state, 100),
            to_state: clampText(r.to_state, 100),
            trigger_type: r.trigger_type,
            trigger_data: r.trigger_data,
            latency_ms: r.latency_ms,
          },
          { ...base, occurredAt: r.at },
        ),
      ),
    onSlot: (r) =>
      emit(() => {
        const turnId = turnIds.get(r.turn);
        return makeEvent(
          'slot',
          callId,
          {
            slot_id: randomUUID(),
            ...(turnId ? { turn_id: turnId } : {}),
            slot_name: clampText(r.slot_name, 100),
            slot_value: r.slot_value,
            confidence: r.confidence,
            method: r.method,
            validated: r.validated,
          },
          { ...base, occurredAt: r.at },
        );
      }),
    onTurn: (r) => {
      // A silence is not a turn anyone took; the transition it causes is recorded.
      if (!options.recordTurns || r.input === 'timeout') return;
      const turnId = randomUUID();
      turnIds.set(r.turn, turnId);
      emit(() =>
        makeEvent(
          'turn',
          callId,
          {
            turn_id: turnId,
            turn_number: r.turn,
            role: r.role,
            text: r.text,
            state_at_turn: clampText(r.state_at_turn, 100),
            ...(r.role === 'user' && r.input === 'speech' ? { transcribed_text: r.text } : {}),
            metadata: {
              input: r.input,
              ...(r.confidence !== undefined ? { confidence: r.confidence } : {}),
              ...(r.menu_choice ? { menu_choice: true } : {}),
            },
          },
          { ...base, occurredAt: r.at },
        ),
      );
    },
    onRecord: (r) =>
      emit(() =>
        makeEvent(
          'record',
          callId,
          { record_id: r.id ?? randomUUID(), flow: options.flow, type: r.type, data: r.data },
          base,
        ),
      ),
  };
}
