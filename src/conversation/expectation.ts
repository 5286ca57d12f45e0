import type { CompletesTurn, Expectation, ExpectationKind } from '../contracts/expectation.js';
import { INTENT_PHRASES, yesNo } from './extract/intents.js';
import { utterance } from './extract/normalize.js';
import { slotDefs } from './flow.js';
import { type AnyState, interpretSpeech, slotsInPlay, wantsToSkip } from './interpret.js';
import type { Flow, FlowContext, SlotDef } from './types.js';

/**
 * What the current state waits for (see src/contracts/expectation.ts), derived from the
 * flow's own declarations: the slots a state collects say their kind (`SlotDef.expects`),
 * confirm states expect a yes/no or a correction, keypad menus a choice.
 */

const PHRASE = /^[a-z' ]+$/;

/** Lowercase word-only phrases: recognizers take them as they are. */
function cleanPhrases(list: readonly string[]): string[] {
  return [...new Set(list.map((p) => p.toLowerCase().trim()).filter((p) => p && PHRASE.test(p)))];
}

function kindOfSlots(defs: readonly (SlotDef<unknown> | undefined)[]): ExpectationKind {
  const kinds = new Set(defs.map((d) => d?.expects ?? 'open'));
  if (kinds.size === 1) return [...kinds][0] as ExpectationKind;
  if (kinds.size === 2 && kinds.has('date') && kinds.has('time')) return 'datetime';
  return 'open';
}

function digitRange(
  defs: readonly (SlotDef<unknown> | undefined)[],
): { min: number; max: number } | undefined {
  const ranges = defs.map((d) => d?.digits).filter((r): r is { min: number; max: number } => Boolean(r));
  if (ranges.length === 0) return undefined;
  return { min: Math.min(...ranges.map((r) => r.min)), max: Math.max(...ranges.map((r) => r.max)) };
}

export function expectationOf(flow: Flow, stateName: string, st: AnyState, ctx: FlowContext): Expectation {
  const defs = slotDefs(flow);
  const own = Object.values(flow.spec.customIntents ?? {}).flatMap((intent) => intent.phrases);
  const base = { state: stateName, intentPhrases: own.length ? [...INTENT_PHRASES, ...own] : INTENT_PHRASES };
  if (st.confirm) {
    const slots = slotsInPlay(flow, st, ctx.slots).accepts;
    return { ...base, kind: 'confirm', slots };
  }
  if (st.dtmf && !st.collect?.length) {
    return { ...base, kind: 'choice', slots: [], options: Object.keys(st.dtmf) };
  }
  const asked = slotsInPlay(flow, st, ctx.slots).asked;
  if (asked.length === 0) return { ...base, kind: 'open', slots: [] };
  const askedDefs = asked.map((n) => defs[n]);
  const kind = kindOfSlots(askedDefs);
  const digits = kind === 'digits' ? digitRange(askedDefs) : undefined;
  const options = askedDefs.flatMap((d) => d?.options ?? []);
  const phrases = cleanPhrases(askedDefs.flatMap((d) => d?.samples ?? []));
  return {
    ...base,
    kind,
    slots: asked,
    ...(digits ? { digits } : {}),
    ...(options.length ? { options: cleanPhrases(options) } : {}),
    ...(phrases.length ? { phrases } : {}),
  };
}

const EARLY_KINDS = new Set<ExpectationKind>(['digits', 'date', 'choice']);

/**
 * Would this (partial) transcript answer the current state? Runs the state's extractors and
 * checks on the text without recording or changing anything.
 */
export function completesTurnIn(flow: Flow, st: AnyState, ctx: FlowContext): CompletesTurn {
  return (partial) => {
    if (st.terminal || st.run) return false;
    const u = utterance(typeof partial === 'string' ? partial : '');
    if (!u.text) return false;
    if (st.confirm) return yesNo(u) !== null;
    const asked = slotsInPlay(flow, st, ctx.slots).asked;
    if (st.optional && (yesNo(u)?.value === false || wantsToSkip(u))) return true;
    if (asked.length === 0) return false;
    // A name, a time or a free answer may go on after a pause ("John … Smith", "nine … a m"):
    // only answers that cannot grow (digits of the expected length, dates, choices) end early.
    const defs = asked.map((name) => slotDefs(flow)[name]);
    if (!EARLY_KINDS.has(kindOfSlots(defs))) return false;
    const it = interpretSpeech(u, { flow, state: st, ctx });
    return asked.every((name) => it.results.some((r) => r.slot === name && r.valid));
  };
}
