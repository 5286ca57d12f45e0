import type { Expectation } from '../contracts/expectation.js';
import type { ConversationEngine } from './engine.js';
import type { EngineAction, EngineReply } from './types.js';

/**
 * The engine in the shape of the pipeline's ConversationPort (src/pipeline/engine-port.ts),
 * declared structurally here because dependencies point from pipeline to conversation, not
 * back. A unit test checks that the two stay assignable.
 */

export type PortAction =
  | { type: 'hangup'; reason?: string }
  | { type: 'transfer'; target?: string; reason?: string }
  | { type: 'custom'; name: string; data?: Record<string, unknown> };

export interface PortReply {
  text: string;
  actions: PortAction[];
}

export interface PortTransition {
  from: string | null;
  to: string;
  trigger: string;
  data?: Record<string, unknown>;
}

export interface EnginePort {
  start(): Promise<PortReply>;
  onUserText(text: string, meta: { confidence?: number }): Promise<PortReply>;
  onDtmf(digits: string): Promise<PortReply>;
  onTimeout(): Promise<PortReply>;
  readonly state: string;
  readonly isTerminal: boolean;
  snapshot(): {
    flow: string;
    slots: Record<string, unknown>;
    records: { type: string; data: Record<string, unknown> }[];
    transitions: PortTransition[];
  };
  expectation(): Expectation;
  completesTurn(partialTranscript: string): boolean;
  readonly engine: ConversationEngine;
}

export function toPortAction(a: EngineAction): PortAction {
  switch (a.type) {
    case 'handoff':
      return { type: 'transfer', reason: a.reason };
    case 'end_call':
      return { type: 'hangup', reason: a.reason };
    case 'send_dtmf':
      return { type: 'custom', name: 'send_dtmf', data: { digits: a.digits } };
  }
}

const toPortReply = (r: EngineReply): PortReply => ({ text: r.text, actions: r.actions.map(toPortAction) });

export function toConversationPort(engine: ConversationEngine): EnginePort {
  return {
    engine,
    start: () => engine.start().then(toPortReply),
    onUserText: (text, meta) =>
      engine
        .handleUserText(text, meta.confidence !== undefined ? { confidence: meta.confidence } : {})
        .then(toPortReply),
    onDtmf: (digits) => engine.handleDtmf(digits).then(toPortReply),
    onTimeout: () => engine.handleTimeout().then(toPortReply),
    expectation: () => engine.expectation(),
    completesTurn: (partial) => engine.completesTurn(partial),
    get state() {
      return engine.state;
    },
    get isTerminal() {
      return engine.isTerminal;
    },
    snapshot: () => {
      const s = engine.snapshot();
      return {
        flow: s.flow,
        slots: s.slots,
        records: s.records.map((r) => ({ type: r.type, data: r.data })),
        transitions: s.transitions.map((t) => ({
          from: t.from_state,
          to: t.to_state,
          trigger: t.trigger_type,
          data: t.trigger_data,
        })),
      };
    },
  };
}
