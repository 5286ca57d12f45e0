/**
 * The minimal contract between the real-time pipeline and the conversation engine.
 *
 * The pipeline owns audio, turn taking, STT/TTS and latency; the engine owns the flow (state
 * machine, slots, prompts). The pipeline hands the engine one event at a time — never two
 * at once (calls are serialised) — and speaks the `text` of the reply it gets back.
 * Every method may return the reply directly or as a promise (an engine that asks an LLM for
 * slot proposals is asynchronous).
 */

import type { Expectation } from '../contracts/expectation.js';

export type MaybePromise<T> = T | Promise<T>;

/** Something the call must do besides speaking. Executed after the reply's audio has played. */
export type Action =
  /** End the call (the worker leaves / deletes the room; the simulator stops the script). */
  | { type: 'hangup'; reason?: string }
  /** Hand the caller to a human (SIP REFER); `target` defaults to SIP_TRANSFER_TO. */
  | { type: 'transfer'; target?: string; reason?: string }
  /** Anything flow specific; the pipeline passes it to the host untouched. */
  | { type: 'custom'; name: string; data?: Record<string, unknown> };

export interface Reply {
  /** What the agent says next; empty string = say nothing. */
  text: string;
  actions: Action[];
}

export interface UserTextMeta {
  /** How the text reached the engine. */
  source: 'speech' | 'text';
  /** STT confidence 0..1 when the recogniser reports one. */
  confidence?: number;
  /** Id of the chat message the framework created for this user turn. */
  messageId?: string;
  /** 0-based index of this user turn in the call (speech and text turns, not DTMF). */
  turnIndex: number;
  /**
   * The recognizer's n-best hypotheses for this turn, best first (the first is `text`), when
   * the STT reports them (the local STT does): pick the best that parses for the state.
   */
  alternatives?: ReadonlyArray<{ text: string; confidence: number }>;
}

/** A state change as the engine reports it (for the simulator result and call records). */
export interface TransitionRecord {
  from: string | null;
  to: string;
  trigger: string;
  data?: Record<string, unknown>;
}

/** Flow-specific facts the simulator puts into its result; every field is optional. */
export interface ConversationSnapshot {
  flow?: string;
  slots?: Record<string, unknown>;
  /** The flow's records of the call (its own facts, e.g. a payment promise). */
  records?: { type: string; data: Record<string, unknown> }[];
  transitions?: TransitionRecord[];
}

export interface ConversationPort {
  /** The greeting: called once when the call is answered. */
  start(): MaybePromise<Reply>;
  /** A completed user turn (final transcript of one utterance, or typed text). */
  onUserText(text: string, meta: UserTextMeta): MaybePromise<Reply>;
  /** DTMF digit(s) the caller pressed. */
  onDtmf(digits: string): MaybePromise<Reply>;
  /** The caller has been silent for the no-input timeout. */
  onTimeout(): MaybePromise<Reply>;
  /** Current state name (recorded with every turn). */
  readonly state: string;
  /** True once the flow reached a terminal state (the pipeline then hangs up after speaking). */
  readonly isTerminal: boolean;
  /** Optional: flow facts for the simulator result (slots, records, transitions). */
  snapshot?(): ConversationSnapshot;
  /** Optional: what the current state waits for (recognizer search, end-of-turn hints). */
  expectation?(): Expectation | undefined;
  /** Optional: would this interim transcript already answer the current state? Side-effect free. */
  completesTurn?(partialTranscript: string): boolean;
}

export const reply = (text: string, actions: Action[] = []): Reply => ({ text, actions });
