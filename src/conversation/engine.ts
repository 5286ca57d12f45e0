import { randomInt } from 'node:crypto';
import type { Expectation } from '../contracts/expectation.js';
import { withTimeout } from '../util/async.js';
import { assertTimeZone } from './clock.js';
import { joinSpeech, makeContext } from './context.js';
import { completesTurnIn, expectationOf } from './expectation.js';
import { utterance } from './extract/normalize.js';
import { slotDefs } from './flow.js';
import { type Interpretation, interpretKeys, interpretSpeech, slotsInPlay } from './interpret.js';
import { addLlmProposals, type LlmAssist } from './llm.js';
import { EngineRecords } from './records.js';
import { FlowRunner, type Turn } from './runner.js';
import type {
  EngineAction,
  EngineObserver,
  EngineReply,
  Flow,
  FlowRecord,
  SlotRecord,
  TransitionRecord,
  TriggerType,
} from './types.js';

export interface EngineOptions {
  /** The call's clock; read once or twice per input. Default: the system clock. */
  now?: () => Date;
  /** IANA zone that "tomorrow at 3" is relative to. Default: the flow's, else UTC. */
  timeZone?: string;
  observer?: EngineObserver | EngineObserver[];
  llm?: LlmAssist;
  /** Per LLM call. Default 3000 ms. */
  llmTimeoutMs?: number;
  /** The call (conversation) id: steps use it to link rows they write. */
  callId?: string;
  callerNumber?: string;
  /** [0, 1) source for confirmation codes and the like. Default: crypto. */
  random?: () => number;
  /** Monotonic ms clock for latency_ms. Default: performance.now. */
  monotonic?: () => number;
}

export interface EngineSnapshot {
  flow: string;
  state: string;
  terminal: boolean;
  slots: Record<string, unknown>;
  /** The flow's records of the call, in the order its steps reported them. */
  records: FlowRecord[];
  transitions: TransitionRecord[];
  endAction: EngineAction | null;
}

const cryptoRandom = () => randomInt(0, 2 ** 32) / 2 ** 32;

/**
 * Runs one call through a flow. Inputs are queued, so a host may fire them without awaiting;
 * each yields the reply to speak and the actions to take after it. The engine owns state and
 * slots; every transition, slot, turn and flow record is reported to the observers.
 * Inputs after a terminal state are ignored (empty reply). Nothing a caller says can make it
 * throw: step failures go to the flow's error state and LLM failures are ignored.
 */
export class ConversationEngine {
  readonly flow: Flow;
  readonly timeZone: string;
  private readonly opts: EngineOptions;
  private readonly records: EngineRecords;
  private readonly runner: FlowRunner;
  private readonly monotonic: () => number;
  private started = false;
  private timeouts = 0;
  private inputs = 0;
  private dtmfBuffer = '';
  private queue: Promise<unknown> = Promise.resolve();

  constructor(flow: Flow, options: EngineOptions = {}) {
    this.flow = flow;
    this.opts = options;
    this.timeZone = options.timeZone ?? flow.spec.timeZone ?? 'UTC';
    assertTimeZone(this.timeZone);
    const now = options.now ?? (() => new Date());
    const random = options.random ?? cryptoRandom;
    this.monotonic = options.monotonic ?? (() => performance.now());
    this.records = new EngineRecords(options.observer ? [options.observer].flat() : [], now);
    this.runner = new FlowRunner(
      flow,
      this.records,
      (r) =>
        makeContext({
          flow,
          slots: r.values,
          data: r.data,
          now: now(),
          timeZone: this.timeZone,
          state: r.current,
          random,
          ...(options.llm?.sentiment
            ? { sentiment: (text, context) => this.llmSentiment(text, context) }
            : {}),
          ...(options.callId !== undefined ? { callId: options.callId } : {}),
          ...(options.callerNumber !== undefined ? { callerNumber: options.callerNumber } : {}),
        }),
      this.monotonic,
    );
  }

  get state(): string {
    return this.runner.current;
  }

  get isTerminal(): boolean {
    return this.runner.isTerminal;
  }

  get slots(): Readonly<Record<string, unknown>> {
    return { ...this.runner.values };
  }

  get transitions(): readonly TransitionRecord[] {
    return this.records.transitions;
  }

  /** Every extraction attempt, valid or not. */
  get slotHistory(): readonly SlotRecord[] {
    return this.records.slots;
  }

  /** The flow's records so far (see StepResult.records). */
  get flowRecords(): readonly FlowRecord[] {
    return this.records.flowRecords;
  }

  /** How the call ended (null while it goes on). */
  get endAction(): EngineAction | null {
    return this.records.endAction;
  }

  snapshot(): EngineSnapshot {
    return {
      flow: this.flow.name,
      state: this.state,
      terminal: this.isTerminal,
      slots: { ...this.runner.values },
      records: [...this.records.flowRecords],
      transitions: [...this.records.transitions],
      endAction: this.endAction,
    };
  }

  /** What the current state waits for (recognizer search, early end of turn). */
  expectation(): Expectation {
    return expectationOf(this.flow, this.state, this.runner.def(this.state), this.runner.ctx());
  }

  /** Whether this partial transcript would already answer the current state; changes nothing. */
  completesTurn(partialText: string): boolean {
    return completesTurnIn(this.flow, this.runner.def(this.state), this.runner.ctx())(partialText);
  }

  /** Enters the initial state and returns the greeting. Idempotent. */
  start(): Promise<EngineReply> {
    return this.serialize(async (turn) => {
      if (turn.parts.length === 0) turn.parts.push(this.runner.lastPrompt);
    }, true);
  }

  /** A final transcript of one caller utterance (or typed text). */
  handleUserText(text: string, meta: { confidence?: number } = {}): Promise<EngineReply> {
    return this.serialize(async (turn) => {
      turn.userText = text;
      this.dtmfBuffer = '';
      this.timeouts = 0;
      this.records.turn('user', text, this.state, 'speech', meta.confidence);
      const u = utterance(typeof text === 'string' ? text : '');
      if (!u.text || (await this.overTurnLimit(turn, 'user_input'))) return;
      const it = interpretSpeech(u, {
        flow: this.flow,
        state: this.runner.def(this.state),
        ctx: this.runner.ctx(),
        ...(meta.confidence !== undefined ? { sttConfidence: meta.confidence } : {}),
      });
      await this.askLlm(it);
      await this.runner.decide(turn, it, 'user_input');
    });
  }

  /** Keys pressed (one or several); multi-digit answers are buffered until complete or '#'. */
  handleDtmf(digits: string): Promise<EngineReply> {
    return this.serialize(async (turn) => {
      const keys = String(digits).replace(/[^0-9*#]/g, '');
      if (!keys) return;
      this.timeouts = 0;
      this.records.turn('user', keys, this.state, 'dtmf', undefined, this.keysAreMenuChoice(keys));
      this.dtmfBuffer += keys;
      await this.drainDtmf(turn, false);
    });
  }

  /** The caller said nothing for the host's no-input timeout. */
  handleTimeout(): Promise<EngineReply> {
    return this.serialize(async (turn) => {
      // Silence after some keys: whatever was typed is the answer.
      if (this.dtmfBuffer) return this.drainDtmf(turn, true);
      this.records.turn('user', '', this.state, 'timeout');
      if (await this.overTurnLimit(turn, 'timeout')) return;
      this.timeouts++;
      const st = this.runner.def(this.state);
      const data = { timeouts: this.timeouts };
      if (this.timeouts >= this.flow.limits.maxTimeouts) {
        await this.runner.enter(turn, this.flow.spec.noInput, 'timeout', data);
      } else if (st.onTimeout) {
        await this.runner.enter(turn, this.runner.resolve(st.onTimeout), 'timeout', data);
      } else {
        turn.parts.push(this.flow.messages.stillThere, this.runner.lastPrompt);
      }
    });
  }

  // -------------------------------------------------------------------------------------------

  /** Queues `fn` behind earlier inputs; an input before start() starts the call silently. */
  private serialize(fn: (turn: Turn) => Promise<void>, isStart = false): Promise<EngineReply> {
    const run = async (): Promise<EngineReply> => {
      const turn: Turn = { t0: this.monotonic(), parts: [], actions: [] };
      if (!this.started) {
        await this.ensureStarted(turn);
        if (!isStart) turn.parts.length = 0; // the greeting was not heard; answer the input
      }
      if (!this.isTerminal) await fn(turn);
      return this.finish(turn);
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async ensureStarted(turn: Turn): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.runner.enter(turn, this.flow.spec.initial, 'system', { event: 'call_start' }, null);
  }

  /** The LLM's sentiment score for a flow step, bounded by the LLM timeout; null on failure. */
  private async llmSentiment(text: string, context: { language: string; question?: string }) {
    const llm = this.opts.llm;
    if (!llm?.sentiment) return null;
    try {
      const value = await withTimeout(
        llm.sentiment(text, context),
        this.opts.llmTimeoutMs ?? 3000,
        'LLM sentiment',
      );
      return Number.isFinite(value) ? Math.max(-1, Math.min(1, value)) : null;
    } catch (error) {
      this.records.error('llm', this.state, error);
      return null;
    }
  }

  private async finish(turn: Turn): Promise<EngineReply> {
    let text = joinSpeech(turn.parts);
    const llm = this.opts.llm;
    if (text && llm?.phrase) {
      try {
        const phrased = await withTimeout(
          llm.phrase(text, {
            flow: this.flow.name,
            state: this.state,
            slots: this.slots,
            ...(turn.userText !== undefined ? { userText: turn.userText } : {}),
          }),
          this.opts.llmTimeoutMs ?? 3000,
          'LLM phrasing',
        );
        if (typeof phrased === 'string' && phrased.trim()) text = phrased.trim();
      } catch (error) {
        this.records.error('llm', this.state, error);
      }
    }
    if (text) this.records.turn('agent', text, this.state, 'reply');
    return { text, actions: turn.actions, state: this.state, terminal: this.isTerminal };
  }

  /** Every flow ends: past maxTurns inputs the call goes to the fallback state. */
  private async overTurnLimit(turn: Turn, trigger: TriggerType): Promise<boolean> {
    this.inputs++;
    if (this.inputs <= this.flow.limits.maxTurns) return false;
    await this.runner.enter(turn, this.flow.spec.fallback, trigger, {
      reason: 'max_turns',
      turns: this.inputs,
    });
    return true;
  }

  /**
   * Whether keys pressed now are a menu choice (stored in clear) rather than data such as a
   * PIN or a number (stored masked): one key that picks a menu entry, a keypad intent, a yes/no,
   * or the whole answer of a slot whose answers are single keys.
   */
  private keysAreMenuChoice(keys: string): boolean {
    if (keys.length !== 1 || this.dtmfBuffer) return false;
    const st = this.runner.def(this.state);
    const slot = slotsInPlay(this.flow, st, this.runner.ctx().slots).asked[0];
    const spec = slot ? slotDefs(this.flow)[slot]?.dtmf : undefined;
    if (spec) return spec.complete(keys);
    return !!(st.dtmf?.[keys] || this.flow.spec.dtmfIntents?.[keys] || st.confirm || st.optional);
  }

  private async drainDtmf(turn: Turn, flush: boolean): Promise<void> {
    while (this.dtmfBuffer && !this.isTerminal) {
      const st = this.runner.def(this.state);
      const ctx = this.runner.ctx();
      const slot = slotsInPlay(this.flow, st, ctx.slots).asked[0];
      const spec = slot ? slotDefs(this.flow)[slot]?.dtmf : undefined;
      let keys: string;
      if (spec) {
        const hash = this.dtmfBuffer.indexOf('#');
        if (hash >= 0) keys = this.dtmfBuffer.slice(0, hash);
        else if (flush || spec.complete(this.dtmfBuffer)) keys = this.dtmfBuffer;
        else return; // still typing
        this.dtmfBuffer = this.dtmfBuffer.slice(keys.length + (hash >= 0 ? 1 : 0));
      } else {
        // Menus and yes/no take one key; keys typed ahead of the question are dropped.
        keys = this.dtmfBuffer.charAt(0);
        this.dtmfBuffer = '';
      }
      if (await this.overTurnLimit(turn, 'dtmf')) return;
      const it = interpretKeys(keys, {
        flow: this.flow,
        state: st,
        ctx,
        ...(slot && spec ? { slot, parse: spec.parse } : {}),
      });
      await this.runner.decide(turn, it, 'dtmf');
    }
  }

  /** Rules found nothing usable: let the LLM propose (validated like everything else). */
  private async askLlm(it: Interpretation): Promise<void> {
    const llm = this.opts.llm;
    if (!llm || it.intents.length || it.yesNo !== null || it.results.some((r) => r.valid)) return;
    const st = this.runner.def(this.state);
    if (st.terminal || st.run) return;
    const ctx = this.runner.ctx();
    try {
      await addLlmProposals(it, {
        llm,
        flow: this.flow,
        state: this.state,
        ctx,
        ...slotsInPlay(this.flow, st, ctx.slots),
        yesNo: Boolean(st.confirm || st.optional),
        lastPrompt: this.runner.lastPrompt,
        timeoutMs: this.opts.llmTimeoutMs ?? 3000,
      });
    } catch (error) {
      this.records.error('llm', this.state, error);
    }
  }
}

export function createEngine(flow: Flow, options: EngineOptions = {}): ConversationEngine {
  return new ConversationEngine(flow, options);
}
