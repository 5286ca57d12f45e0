import { randomUUID } from 'node:crypto';
import { voice } from '@livekit/agents';
import { type EventSink, makeEvent } from '../events/index.js';
import type { PipelineErrorRecord } from './errors.js';
import { errorFromSessionEvent } from './errors.js';
import type { CallLatencySummary, LatencyStage, TurnLatency } from './latency-meter.js';
import { LATENCY_STAGES } from './latency-meter.js';

/**
 * Turns what the session observes into call events: one `turn` event per chat message (user
 * transcript / what the agent said — truncated where the caller interrupted), one `metric`
 * event per measured latency stage per turn plus the call's p50/p95 at the end, one `error`
 * event per failure. Transitions, slots and flow records come from the conversation engine
 * and are recorded by whoever observes it; this class only covers the session side.
 * emit() never blocks: the sink buffers.
 */
export interface CallRecorderOptions {
  callId: string;
  sink: EventSink;
  organizationId?: string;
  /** State the engine was in when a user message (by chat-message id) arrived. */
  stateAtUserTurn?: (messageId: string) => string | undefined;
  /** Current engine state, recorded with agent turns. */
  currentState?: () => string | undefined;
  /** Tags added to every metric event (provider, flow…). */
  metricTags?: Record<string, string>;
}

export class CallRecorder {
  private readonly opts: CallRecorderOptions;
  private turnNumber = 0;
  /** Turn events in order (role, text, state) — the simulator returns these. */
  readonly turns: { role: 'user' | 'agent'; text: string; state?: string; interrupted?: boolean }[] = [];

  constructor(options: CallRecorderOptions) {
    this.opts = options;
  }

  private get eventOptions() {
    return this.opts.organizationId ? { organizationId: this.opts.organizationId } : {};
  }

  /**
   * Records turns (and, unless `errors: false`, provider errors) of a session.
   * Returns the unsubscribe function.
   */
  attach(session: voice.AgentSession, options: { errors?: boolean } = {}): () => void {
    const onItem = (ev: voice.ConversationItemAddedEvent) => {
      const item = ev.item;
      if (item.type !== 'message' || (item.role !== 'user' && item.role !== 'assistant')) return;
      const text = item.textContent ?? '';
      if (!text.trim()) return;
      if (item.role === 'user') {
        this.recordTurn('user', text, this.opts.stateAtUserTurn?.(item.id) ?? this.opts.currentState?.(), {
          ...(item.transcriptConfidence !== undefined ? { confidence: item.transcriptConfidence } : {}),
        });
      } else {
        this.recordTurn(
          'agent',
          text,
          this.opts.currentState?.(),
          item.interrupted ? { interrupted: true } : {},
        );
      }
    };
    const onError = (ev: voice.ErrorEvent) => this.recordError(errorFromSessionEvent(ev));
    const recordErrors = options.errors ?? true;
    session.on(voice.AgentSessionEventTypes.ConversationItemAdded, onItem);
    if (recordErrors) session.on(voice.AgentSessionEventTypes.Error, onError);
    return () => {
      session.off(voice.AgentSessionEventTypes.ConversationItemAdded, onItem);
      session.off(voice.AgentSessionEventTypes.Error, onError);
    };
  }

  recordTurn(
    role: 'user' | 'agent',
    text: string,
    state?: string,
    metadata: Record<string, unknown> = {},
  ): void {
    const interrupted = metadata.interrupted === true;
    this.turns.push({
      role,
      text,
      ...(state !== undefined ? { state } : {}),
      ...(interrupted ? { interrupted } : {}),
    });
    this.opts.sink.emit(
      makeEvent(
        'turn',
        this.opts.callId,
        {
          turn_id: randomUUID(),
          turn_number: this.turnNumber++,
          role,
          text,
          ...(state !== undefined ? { state_at_turn: state } : {}),
          ...(role === 'user' ? { transcribed_text: text } : {}),
          ...(Object.keys(metadata).length ? { metadata } : {}),
        },
        this.eventOptions,
      ),
    );
  }

  /** One `metric` event per measured stage: name `latency.<stage>` (ms), tagged with the turn. */
  recordLatency(turn: TurnLatency): void {
    const time = new Date(turn.agent_audio_at ?? Date.now()).toISOString();
    for (const stage of LATENCY_STAGES) {
      const value = turn[stage];
      if (value === null) continue;
      this.opts.sink.emit(
        makeEvent(
          'metric',
          this.opts.callId,
          {
            name: `latency.${stage}`,
            value: Math.round(value * 1000) / 1000,
            tags: {
              turn: turn.turn,
              ...(turn.speech_id ? { speech_id: turn.speech_id } : {}),
              ...this.opts.metricTags,
            },
            time,
          },
          this.eventOptions,
        ),
      );
    }
  }

  /** p50/p95 per stage for the whole call: `latency.<stage>.p50` / `.p95`. */
  recordSummary(summary: CallLatencySummary): void {
    for (const stage of Object.keys(summary.stages) as LatencyStage[]) {
      const s = summary.stages[stage];
      for (const [q, value] of [
        ['p50', s.p50],
        ['p95', s.p95],
      ] as const) {
        if (value === null) continue;
        this.opts.sink.emit(
          makeEvent(
            'metric',
            this.opts.callId,
            { name: `latency.${stage}.${q}`, value, tags: { turns: s.count, ...this.opts.metricTags } },
            this.eventOptions,
          ),
        );
      }
    }
  }

  recordError(error: PipelineErrorRecord): void {
    this.opts.sink.emit(
      makeEvent(
        'error',
        this.opts.callId,
        {
          error_id: randomUUID(),
          error_type: error.error_type.slice(0, 100),
          message: error.message,
          severity: error.severity,
          context: { recoverable: error.recoverable, ...error.context },
        },
        { ...this.eventOptions, occurredAt: new Date(error.at) },
      ),
    );
  }
}
