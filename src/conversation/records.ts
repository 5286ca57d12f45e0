import type {
  EngineAction,
  EngineErrorRecord,
  EngineObserver,
  FlowRecord,
  SlotRecord,
  TransitionRecord,
  TriggerType,
  TurnRecord,
} from './types.js';

/**
 * The engine's memory of a call and its fan-out to observers. Observers run synchronously on
 * the real-time path and must be cheap; a throwing observer is ignored rather than allowed
 * to end the call.
 */
export class EngineRecords {
  readonly transitions: TransitionRecord[] = [];
  readonly slots: SlotRecord[] = [];
  readonly flowRecords: FlowRecord[] = [];
  endAction: EngineAction | null = null;
  private turnNo = 0;

  constructor(
    private readonly observers: EngineObserver[],
    private readonly now: () => Date,
  ) {}

  /** Index of the last user or agent turn recorded. */
  get lastTurn(): number {
    return this.turnNo - 1;
  }

  transition(
    from: string | null,
    to: string,
    trigger: TriggerType,
    data: Record<string, unknown>,
    latencyMs: number,
  ): void {
    const record: TransitionRecord = {
      seq: this.transitions.length,
      from_state: from,
      to_state: to,
      trigger_type: trigger,
      trigger_data: data,
      latency_ms: Math.max(0, Math.round(latencyMs)),
      at: this.now(),
    };
    this.transitions.push(record);
    this.emit((o) => o.onTransition?.(record));
  }

  slot(
    r: {
      slot: string;
      value: unknown;
      confidence: number;
      method: SlotRecord['method'];
      valid: boolean;
      reason?: string;
    },
    state: string,
    turn: number,
  ): void {
    const record: SlotRecord = {
      slot_name: r.slot,
      slot_value: typeof r.value === 'string' ? r.value : (JSON.stringify(r.value) ?? String(r.value)),
      value: r.value,
      confidence: r.confidence,
      method: r.method,
      validated: r.valid,
      ...(r.reason ? { reason: r.reason } : {}),
      state,
      turn,
      at: this.now(),
    };
    this.slots.push(record);
    this.emit((o) => o.onSlot?.(record));
  }

  turn(
    role: TurnRecord['role'],
    text: string,
    state: string,
    input: TurnRecord['input'],
    confidence?: number,
    menuChoice?: boolean,
  ): number {
    const record: TurnRecord = {
      turn: this.turnNo++,
      role,
      text,
      state_at_turn: state,
      input,
      ...(confidence !== undefined ? { confidence } : {}),
      ...(menuChoice ? { menu_choice: true } : {}),
      at: this.now(),
    };
    this.emit((o) => o.onTurn?.(record));
    return record.turn;
  }

  record(record: FlowRecord): void {
    this.flowRecords.push(record);
    this.emit((o) => o.onRecord?.(record));
  }

  error(where: EngineErrorRecord['where'], state: string, error: unknown): void {
    const record: EngineErrorRecord = {
      where,
      state,
      message: error instanceof Error ? error.message : String(error),
      error,
    };
    this.emit((o) => o.onError?.(record));
  }

  private emit(fn: (o: EngineObserver) => void): void {
    for (const o of this.observers) {
      try {
        fn(o);
      } catch {
        // An observer bug must not end the call.
      }
    }
  }
}
