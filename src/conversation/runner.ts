import { render } from './context.js';
import type { Intent } from './extract/intents.js';
import { utterance } from './extract/normalize.js';
import { slotDefs } from './flow.js';
import { type AnyState, type Interpretation, slotsInPlay, wantsToSkip } from './interpret.js';
import type { EngineRecords } from './records.js';
import type { EngineAction, Flow, FlowContext, StepResult, Target, TriggerType } from './types.js';

/** One input being processed: what will be said and done, and when processing started. */
export interface Turn {
  t0: number;
  parts: string[];
  actions: EngineAction[];
  userText?: string;
}

const MAX_HOPS = 24;
const isSet = (v: unknown) => v !== undefined && v !== null;
const sameValue = (a: unknown, b: unknown) => Object.is(a, b) || JSON.stringify(a) === JSON.stringify(b);

/**
 * The state machine of one call: applies an interpreted input to the flow (slots, intents,
 * yes/no, retries) and walks transitions, running system steps, until it reaches a state
 * that waits for the caller or ends the call. Inputs, timers and queuing are the engine's.
 */
export class FlowRunner {
  current: string;
  readonly values: Record<string, unknown> = {};
  readonly data: Record<string, unknown>;
  lastPrompt = '';
  private retries = 0;

  constructor(
    readonly flow: Flow,
    private readonly records: EngineRecords,
    private readonly context: (runner: FlowRunner) => FlowContext,
    private readonly monotonic: () => number,
  ) {
    this.current = flow.spec.initial;
    this.data = (flow.spec.data?.() ?? {}) as Record<string, unknown>;
  }

  def(name: string): AnyState {
    return this.flow.spec.states[name] as AnyState;
  }

  get isTerminal(): boolean {
    return Boolean(this.def(this.current)?.terminal);
  }

  ctx(): FlowContext {
    return this.context(this);
  }

  /** Target → state name, skipping collect states whose slots are all filled already. */
  resolve(target: Target<unknown, unknown, string>, skipped: string[] = []): string {
    let name = typeof target === 'function' ? target(this.ctx() as never) : target;
    for (let i = 0; i < MAX_HOPS; i++) {
      const st = this.def(name);
      const done = st?.collect?.length && st.collect.every((s: string) => isSet(this.values[s]));
      if (!done || !st.next) break;
      skipped.push(name);
      name = typeof st.next === 'function' ? st.next(this.ctx()) : st.next;
    }
    return name;
  }

  intentTarget(intent: Intent): string | undefined {
    const local = this.def(this.current).intents?.[intent];
    if (local === null) return undefined;
    return local ?? this.flow.spec.intents?.[intent];
  }

  async decide(turn: Turn, it: Interpretation, trigger: TriggerType): Promise<void> {
    const st = this.def(this.current);
    const human = it.intents.includes('human') ? this.intentTarget('human') : undefined;
    if (human) return this.enter(turn, human, 'handoff', { intent: 'human', input: it.input });
    // The flow's own intents act at once, whatever else the words held.
    for (const intent of it.intents) {
      const target = this.flow.spec.customIntents?.[intent] ? this.intentTarget(intent) : undefined;
      if (target) return this.enter(turn, target, trigger, { intent, input: it.input });
    }
    if (it.menuTarget) return this.enter(turn, this.resolve(it.menuTarget), 'dtmf', { digits: it.input });

    const before = { ...this.values };
    const { asked } = slotsInPlay(this.flow, st, before);
    const reasons: string[] = [];
    const changed: string[] = [];
    for (const r of it.results) {
      this.records.slot(r, this.current, this.records.lastTurn);
      if (!r.valid) {
        if (r.reason && !reasons.includes(r.reason)) reasons.push(r.reason);
      } else if (!sameValue(before[r.slot], r.value)) {
        this.values[r.slot] = r.value;
        changed.push(r.slot);
      }
    }
    const gotAsked = it.results.some((r) => r.valid && r.asked);
    const corrected = changed.filter((s) => isSet(before[s]));
    const cancel = it.intents.includes('cancel') ? this.intentTarget('cancel') : undefined;
    if (cancel && !gotAsked && changed.length === 0) {
      return this.enter(turn, cancel, trigger, { intent: 'cancel', input: it.input });
    }
    const data = { input: it.input, ...(changed.length ? { slots: changed } : {}) };
    const defs = slotDefs(this.flow);
    for (const name of changed) {
      const ack = asked.includes(name) ? defs[name]?.ack : undefined;
      if (ack) turn.parts.push(render(ack, this.ctx()));
    }

    if (st.collect?.length) {
      if (st.onChange && corrected.some((s) => !asked.includes(s))) {
        return this.enter(turn, this.resolve(st.onChange), trigger, { ...data, correction: corrected });
      }
      if (st.collect.every((s: string) => isSet(this.values[s]))) {
        return this.enter(turn, this.resolve(st.next!), trigger, data);
      }
      const skip = it.yesNo === false || (it.kind === 'speech' && wantsToSkip(utterance(it.input)));
      if (st.optional && skip)
        return this.enter(turn, this.resolve(st.next!), trigger, { ...data, skipped: true });
      if (changed.length > 0) {
        if (corrected.length) turn.parts.push(this.flow.messages.changed);
        this.lastPrompt = this.promptFor(this.current);
        turn.parts.push(...reasons, this.lastPrompt);
        return;
      }
    } else if (st.confirm) {
      if (changed.length) {
        turn.parts.push(this.flow.messages.changed);
        const target = st.onChange ? this.resolve(st.onChange) : this.current;
        return this.enter(turn, target, trigger, { ...data, correction: changed });
      }
      if (it.yesNo !== null) {
        const target = this.resolve(it.yesNo ? st.confirm.yes : st.confirm.no);
        return this.enter(turn, target, trigger, { ...data, answer: it.yesNo ? 'yes' : 'no' });
      }
    } else if (st.next) {
      return this.enter(turn, this.resolve(st.next), trigger, data);
    }
    if (it.intents.includes('repeat') && reasons.length === 0) {
      turn.parts.push(this.lastPrompt);
      return;
    }
    return this.fail(turn, st, reasons, it, trigger);
  }

  private async fail(turn: Turn, st: AnyState, reasons: string[], it: Interpretation, trigger: TriggerType) {
    this.retries++;
    const max = st.maxRetries ?? this.flow.limits.maxRetries;
    if (this.retries > max) {
      return this.enter(turn, this.flow.spec.fallback, trigger, {
        reason: 'max_retries',
        retries: this.retries,
        input: it.input,
      });
    }
    const m = this.flow.messages;
    if (reasons.length) turn.parts.push(...reasons);
    else if (it.kind === 'dtmf') turn.parts.push(m.dtmfNotUnderstood);
    else if (st.confirm) turn.parts.push(m.yesOrNo);
    else turn.parts.push(m.notUnderstood);
    // A reason already explains what to say; a bare "sorry?" earns the more detailed re-prompt.
    if (!st.confirm || reasons.length) turn.parts.push(this.promptFor(this.current, reasons.length === 0));
  }

  /** The question of a waiting state: its prompt, else the first missing slot's. */
  promptFor(name: string, again = false): string {
    const st = this.def(name);
    const ctx = this.ctx();
    const collect: string[] = st.collect ?? [];
    const missing = collect.find((s) => !isSet(this.values[s]));
    const slot = missing ? slotDefs(this.flow)[missing] : undefined;
    const partial = missing && collect.length > 1 && collect.some((s) => isSet(this.values[s]));
    if (st.prompt && !partial && !(again && slot?.reprompt)) return render(st.prompt, ctx);
    if (slot) return render(again ? (slot.reprompt ?? slot.prompt) : slot.prompt, ctx);
    return render(st.prompt, ctx);
  }

  /** Takes a transition, then follows system steps until a state waits or ends the call. */
  async enter(
    turn: Turn,
    target: string,
    trigger: TriggerType,
    triggerData: Record<string, unknown>,
    from: string | null = this.current,
  ): Promise<void> {
    let [to, trig, data, prev] = [target, trigger, triggerData, from];
    for (let hops = 0; ; hops++) {
      if (!this.def(to) || hops > MAX_HOPS) {
        data = { ...data, reason: hops > MAX_HOPS ? 'too_many_hops' : `unknown state ${to}` };
        [to, trig] = [this.flow.spec.fallback, 'error'];
      }
      this.records.transition(prev, to, trig, data, this.monotonic() - turn.t0);
      if (prev !== to) this.retries = 0;
      this.current = to;
      const st = this.def(to);
      if (st.say) turn.parts.push(render(st.say, this.ctx()));
      if (st.terminal) {
        if (st.prompt) turn.parts.push(render(st.prompt, this.ctx()));
        const action: EngineAction = { type: st.terminal.action, reason: st.terminal.reason };
        turn.actions.push(action);
        this.records.endAction = action;
        return;
      }
      if (!st.run) {
        this.lastPrompt = this.promptFor(to);
        turn.parts.push(this.lastPrompt);
        return;
      }
      prev = to;
      try {
        const result = await st.run(this.ctx());
        const skipped: string[] = [];
        this.applyStep(result, turn);
        [to, trig] = [this.resolve(result.goto, skipped), 'system'];
        data = { step: prev, ...(skipped.length ? { skipped } : {}) };
      } catch (error) {
        this.records.error('step', this.current, error);
        to = st.onError ? this.resolve(st.onError) : (this.flow.spec.onError ?? this.flow.spec.fallback);
        trig = 'error';
        data = { step: prev, error: error instanceof Error ? error.message : String(error) };
      }
    }
  }

  private applyStep(result: StepResult<Record<string, unknown>, string>, turn: Turn): void {
    for (const name of result.clear ?? []) delete this.values[name];
    for (const [k, v] of Object.entries(result.set ?? {})) {
      if (v === undefined) delete this.values[k];
      else this.values[k] = v;
    }
    if (result.say) turn.parts.push(result.say);
    if (result.actions) turn.actions.push(...result.actions);
    for (const record of result.records ?? []) this.records.record(record);
  }
}
