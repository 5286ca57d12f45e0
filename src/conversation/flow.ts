import { assertTimeZone } from './clock.js';
import { INTENTS } from './extract/intents.js';
import type { Flow, FlowLimits, FlowMessages, FlowSpec, SlotDef, SlotDefs } from './types.js';

export const DEFAULT_LIMITS: FlowLimits = { maxRetries: 2, maxTimeouts: 3, maxTurns: 60 };

export const DEFAULT_MESSAGES: FlowMessages = {
  notUnderstood: "Sorry, I didn't catch that.",
  stillThere: 'Are you still there?',
  yesOrNo: 'Sorry, was that a yes or a no?',
  changed: "Okay, I've changed that.",
  dtmfNotUnderstood: "Sorry, that key doesn't do anything here.",
  invalid: "Sorry, that doesn't sound like a valid {label}.",
};

export class FlowDefinitionError extends Error {
  constructor(flow: string, problems: string[]) {
    super(`flow ${flow} is invalid:\n- ${problems.join('\n- ')}`);
    this.name = 'FlowDefinitionError';
  }
}

/** Declares one slot; an identity function that lets TypeScript infer the value type. */
export function slot<T>(def: SlotDef<T>): SlotDef<T> {
  return def;
}

/**
 * Checks a flow definition and freezes it into a {@link Flow}. Every static state reference
 * must exist, fallback/noInput must be terminal, and collected slots must be declared: such
 * mistakes fail when the worker loads the flow, not in the middle of a call. Targets chosen
 * by functions are checked when they are taken (an unknown one routes to the fallback).
 */
export function defineFlow<SD extends SlotDefs, D = Record<string, never>, St extends string = string>(
  spec: FlowSpec<SD, D, St>,
): Flow {
  const problems: string[] = [];
  const states = spec.states as Record<string, FlowSpec<SD, D, St>['states'][St]>;
  const stateNames = new Set(Object.keys(states));
  const slotNames = new Set(Object.keys(spec.slots));
  const needState = (where: string, target: unknown) => {
    if (typeof target === 'string' && !stateNames.has(target))
      problems.push(`${where}: unknown state "${target}"`);
  };
  const needSlots = (where: string, names: readonly string[] | undefined) => {
    for (const n of names ?? []) if (!slotNames.has(n)) problems.push(`${where}: unknown slot "${n}"`);
  };
  needState('initial', spec.initial);
  needState('fallback', spec.fallback);
  needState('noInput', spec.noInput);
  needState('onError', spec.onError);
  for (const key of ['fallback', 'noInput'] as const) {
    if (stateNames.has(spec[key]) && !states[spec[key]]?.terminal)
      problems.push(`${key} state "${spec[key]}" must be terminal`);
  }
  const known = new Set<string>([...INTENTS, ...Object.keys(spec.customIntents ?? {})]);
  for (const name of Object.keys(spec.customIntents ?? {})) {
    if ((INTENTS as readonly string[]).includes(name))
      problems.push(`customIntents.${name}: a built-in intent`);
    if (!/^[a-z][a-z0-9_]*$/.test(name)) problems.push(`customIntents.${name}: not a name (lower_case)`);
  }
  for (const [intent, target] of Object.entries(spec.intents ?? {})) {
    if (!known.has(intent)) problems.push(`intents.${intent}: unknown intent`);
    needState(`intents.${intent}`, target);
  }
  for (const [key, intent] of Object.entries(spec.dtmfIntents ?? {})) {
    if (!known.has(String(intent))) problems.push(`dtmfIntents.${key}: unknown intent "${intent}"`);
  }
  needSlots('accepts', spec.accepts);
  for (const [name, st] of Object.entries(states)) {
    const where = `states.${name}`;
    needSlots(`${where}.collect`, st.collect);
    needSlots(`${where}.accepts`, st.accepts);
    for (const key of ['next', 'onChange', 'onTimeout', 'onError'] as const)
      needState(`${where}.${key}`, st[key]);
    needState(`${where}.confirm.yes`, st.confirm?.yes);
    needState(`${where}.confirm.no`, st.confirm?.no);
    for (const [k, t] of Object.entries(st.intents ?? {}))
      if (t !== null) needState(`${where}.intents.${k}`, t);
    for (const [k, t] of Object.entries(st.dtmf ?? {})) needState(`${where}.dtmf.${k}`, t);
    const kinds = [
      st.collect?.length ? 'collect' : '',
      st.confirm ? 'confirm' : '',
      st.run ? 'run' : '',
      st.terminal ? 'terminal' : '',
    ].filter(Boolean);
    if (kinds.length === 0 && !st.next)
      problems.push(`${where}: needs collect, confirm, run, terminal or next`);
    if (kinds.length > 1) problems.push(`${where}: ${kinds.join(' and ')} do not mix; split the state`);
    if (st.collect?.length && !st.next) problems.push(`${where}: a collect state needs next`);
  }
  if (spec.timeZone) {
    try {
      assertTimeZone(spec.timeZone);
    } catch {
      problems.push(`timeZone: unknown time zone "${spec.timeZone}"`);
    }
  }
  if (problems.length) throw new FlowDefinitionError(spec.name, problems);
  return Object.freeze({
    name: spec.name,
    description: spec.description,
    spec: spec as unknown as Flow['spec'],
    limits: { ...DEFAULT_LIMITS, ...spec.limits },
    messages: { ...DEFAULT_MESSAGES, ...spec.messages },
  });
}

/** Slot definitions of a flow, by name (type-erased). */
export function slotDefs(flow: Flow): Record<string, SlotDef<unknown>> {
  return flow.spec.slots as Record<string, SlotDef<unknown>>;
}
