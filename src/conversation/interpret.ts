import type { Intent } from './extract/intents.js';
import { detectIntents, yesNo } from './extract/intents.js';
import type { Utterance } from './extract/normalize.js';
import type { ExtractContext, Extractor } from './extract/types.js';
import { slotDefs } from './flow.js';
import type { ExtractionMethod, Flow, FlowContext, SlotDef, StateDef } from './types.js';

/**
 * Turns one caller input into candidate facts (slot values with validity, yes/no, intents)
 * without changing anything: the engine decides what to do with them.
 */

export interface SlotResult {
  slot: string;
  value: unknown;
  confidence: number;
  method: ExtractionMethod;
  valid: boolean;
  reason?: string;
  /** The state asked for this slot (vs. given unprompted). */
  asked: boolean;
}

export interface Interpretation {
  kind: 'speech' | 'dtmf';
  input: string;
  intents: Intent[];
  results: SlotResult[];
  yesNo: boolean | null;
  /** Keypad menu choice (state name). */
  menuTarget?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: erased state definitions
export type AnyState = StateDef<any, any, string>;

const SKIP =
  /\b(no thanks|no thank you|skip|pass|rather not|not now|that's all|that's it|nothing|i'm good|im good)\b/;

export function wantsToSkip(u: Utterance): boolean {
  return SKIP.test(u.text);
}

const filled = (slots: Readonly<Record<string, unknown>>, name: string) =>
  slots[name] !== undefined && slots[name] !== null;

/** Slots the state asks for now, and slots it takes unprompted. */
export function slotsInPlay(
  flow: Flow,
  st: AnyState,
  slots: Readonly<Record<string, unknown>>,
): { asked: string[]; accepts: string[] } {
  const asked = (st.collect ?? []).filter((n: string) => !filled(slots, n));
  const pool = [...(st.accepts ?? flow.spec.accepts ?? []), ...(st.collect ?? [])] as string[];
  const accepts = [...new Set(pool)].filter((n) => !asked.includes(n));
  return { asked, accepts };
}

export function labelOf(name: string, def: SlotDef<unknown> | undefined): string {
  return def?.label ?? name.replace(/_/g, ' ');
}

/** Schema, then business rules. Returns the parsed value (zod may coerce) when valid. */
export function validateSlot(
  flow: Flow,
  name: string,
  value: unknown,
  ctx: FlowContext,
): { valid: true; value: unknown } | { valid: false; reason: string } {
  const def = slotDefs(flow)[name];
  if (!def) return { valid: false, reason: flow.messages.notUnderstood };
  const parsed = def.schema.safeParse(value);
  if (!parsed.success) {
    return {
      valid: false,
      reason: def.invalid ?? flow.messages.invalid.replace('{label}', labelOf(name, def)),
    };
  }
  const reason = def.check?.(parsed.data, ctx) ?? null;
  return reason ? { valid: false, reason } : { valid: true, value: parsed.data };
}

const round2 = (n: number) => Math.round(Math.min(1, Math.max(0, n)) * 100) / 100;

function runExtractors(def: SlotDef<unknown>, u: Utterance, ctx: ExtractContext) {
  const list = (Array.isArray(def.extract) ? def.extract : [def.extract]) as Extractor<unknown>[];
  for (const extractor of list) {
    const hit = extractor(u, ctx);
    if (hit) return hit;
  }
  return null;
}

export interface InterpretInput {
  flow: Flow;
  state: AnyState;
  ctx: FlowContext;
  sttConfidence?: number;
}

export function interpretSpeech(u: Utterance, input: InterpretInput): Interpretation {
  const { flow, state, ctx } = input;
  const defs = slotDefs(flow);
  const { asked, accepts } = slotsInPlay(flow, state, ctx.slots);
  const results: SlotResult[] = [];
  const base: Omit<ExtractContext, 'asked'> = {
    now: ctx.now,
    timeZone: ctx.timeZone,
    today: ctx.today,
    slots: ctx.slots,
    data: ctx.data,
    ...(ctx.callerNumber !== undefined ? { callerNumber: ctx.callerNumber } : {}),
    ...(input.sttConfidence !== undefined ? { sttConfidence: input.sttConfidence } : {}),
  };
  for (const [names, isAsked] of [
    [asked, true],
    [accepts, false],
  ] as const) {
    for (const name of names) {
      const def = defs[name];
      if (!def) continue;
      const hit = runExtractors(def, u, { ...base, asked: isAsked });
      if (!hit) continue;
      const confidence = round2(hit.confidence * (input.sttConfidence ?? 1));
      results.push(checked(flow, name, hit.value, confidence, hit.method, isAsked, ctx));
    }
  }
  return {
    kind: 'speech',
    input: u.raw,
    intents: allowedIntents(detectIntents(u, flow.spec.customIntents), state),
    results,
    yesNo: state.confirm || state.optional ? (yesNo(u)?.value ?? null) : null,
  };
}

export function checked(
  flow: Flow,
  name: string,
  value: unknown,
  confidence: number,
  method: ExtractionMethod,
  asked: boolean,
  ctx: FlowContext,
): SlotResult {
  const v = validateSlot(flow, name, value, ctx);
  return v.valid
    ? { slot: name, value: v.value, confidence, method, valid: true, asked }
    : { slot: name, value, confidence, method, valid: false, reason: v.reason, asked };
}

/** Drops intents the state ignores (`intents: { cancel: null }`). */
export function allowedIntents(intents: Intent[], state: AnyState): Intent[] {
  return intents.filter((i) => state.intents?.[i] !== null);
}

/** Keys typed on the phone: a menu choice, an intent key, a slot value or yes (1) / no (2). */
export function interpretKeys(
  keys: string,
  input: InterpretInput & { slot?: string; parse?: (digits: string) => unknown },
): Interpretation {
  const { flow, state } = input;
  const it: Interpretation = { kind: 'dtmf', input: keys, intents: [], results: [], yesNo: null };
  const intent = flow.spec.dtmfIntents?.[keys];
  if (intent && state.intents?.[intent] !== null && !input.parse) it.intents.push(intent);
  const menu = state.dtmf?.[keys];
  if (menu) it.menuTarget = menu;
  const value = input.slot && input.parse ? input.parse(keys) : null;
  if (input.slot && value !== null && value !== undefined) {
    it.results.push(checked(flow, input.slot, value, 1, 'dtmf', true, input.ctx));
  }
  if (state.confirm || state.optional) it.yesNo = keys === '1' ? true : keys === '2' ? false : null;
  return it;
}
