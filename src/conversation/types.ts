import type { z } from 'zod';
import type { ExpectationKind } from '../contracts/expectation.js';
import type { IsoDate } from './clock.js';
import type { CustomIntent, Intent } from './extract/intents.js';
import type { Extractor } from './extract/types.js';

export type { CustomIntent, Intent } from './extract/intents.js';
export type { ExtractionMethod } from './extract/types.js';

/** Why a state changed (state_transitions.trigger_type). */
export type TriggerType = 'user_input' | 'timeout' | 'error' | 'handoff' | 'dtmf' | 'system';

/** Something the call must do besides speaking; executed after the reply has been spoken. */
export type EngineAction =
  | { type: 'handoff'; reason: string }
  | { type: 'end_call'; reason: string }
  | { type: 'send_dtmf'; digits: string };

export interface EngineReply {
  /** What to say next; '' = say nothing (e.g. while DTMF digits are still being typed). */
  text: string;
  actions: EngineAction[];
  /** State after this reply. */
  state: string;
  terminal: boolean;
}

// ---------------------------------------------------------------------------------------------
// Flow definitions

/** What templates, checks and steps see. `data` is the flow's own mutable scratch memory. */
export interface FlowContext<S = Record<string, unknown>, D = Record<string, unknown>> {
  readonly slots: Readonly<Partial<S>>;
  data: D;
  readonly now: Date;
  readonly timeZone: string;
  readonly today: IsoDate;
  readonly state: string;
  /** The call (conversation) id when the host gave one. */
  readonly callId?: string;
  readonly callerNumber?: string;
  /** A random number in [0, 1): the engine's injected source (deterministic in tests). */
  random(): number;
  /**
   * The LLM's sentiment score of `text` (−1…1) when the host configured one that scores;
   * null when none is configured or it failed or was slow (the failure is recorded).
   */
  sentiment?(text: string, context: { language: string; question?: string }): Promise<number | null>;
  /** The spoken form of a filled slot ('' when empty). */
  speak(slot: keyof S & string): string;
}

export type Template<S = Record<string, unknown>, D = Record<string, unknown>> =
  | string
  | ((ctx: FlowContext<S, D>) => string);

export interface SlotDef<T = unknown> {
  /** How replies name the slot ("phone number"); defaults to the slot name. */
  label?: string;
  /** Shape of a valid value (also the LLM tool's JSON schema). */
  schema: z.ZodType<T>;
  /** Rule-based extractors, tried in order; the first hit wins. */
  extract: Extractor<T> | readonly Extractor<T>[];
  /** For the LLM tool and the docs. */
  description: string;
  /** Asks for the slot. */
  prompt: Template;
  /** Said when a value fails the schema; defaults to the flow's `invalid` message. */
  invalid?: string;
  /** Asks again after a failed attempt; defaults to `prompt`. */
  reprompt?: Template;
  /** Business rules beyond the schema: a spoken reason to refuse the value, or null. */
  check?: (value: T, ctx: FlowContext) => string | null;
  /** Spoken form for read-backs and `{slot}` in templates; defaults to String(value). */
  speak?: (value: T, ctx: FlowContext) => string;
  /** Said after the slot was filled and before the next prompt ("Thanks, {name}."). */
  ack?: Template;
  /** Keypad entry: `complete` decides when the buffered digits are a whole answer. */
  dtmf?: { complete: (digits: string) => boolean; parse: (digits: string) => T | null };
  /** Sample utterances for the speech recognizer's grammar (see domainLanguage). */
  samples?: readonly string[];
  /** The shape of answer asking for this slot expects (see Expectation); default 'open'. */
  expects?: ExpectationKind;
  /** For `expects: 'digits'`: how many digits make a whole answer. */
  digits?: { min: number; max: number };
  /** For `expects: 'choice'`: the words that name the options. */
  options?: readonly string[];
}

// biome-ignore lint/suspicious/noExplicitAny: slot value types vary per slot; SlotValues recovers them.
export type SlotDefs = Record<string, SlotDef<any>>;
export type SlotValues<SD> = { [K in keyof SD]: SD[K] extends SlotDef<infer T> ? T : never };

/** A state name, or a function of the context choosing one. */
export type Target<S, D, St extends string> = NoInfer<St> | ((ctx: FlowContext<S, D>) => NoInfer<St>);

/** What a `run` step decides. */
export interface StepResult<S, St extends string> {
  goto: NoInfer<St>;
  /** Spoken before whatever the next state says. */
  say?: string;
  /** Slots the step fills itself (not extractions: they are not recorded as such). */
  set?: Partial<S>;
  clear?: (keyof S & string)[];
  /** Facts for the flow's own tables (record types its package declares). */
  records?: FlowRecord[];
  actions?: EngineAction[];
}

export interface StateDef<S, D, St extends string> {
  /** Said on entering, before the prompt. */
  say?: Template<S, D>;
  /** The question; collect states default to the first missing slot's prompt. */
  prompt?: Template<S, D>;
  /** Slots asked for here; the state is done when all are filled. */
  collect?: (keyof S & string)[];
  /** "No thanks" / silence may skip this state's slots (ratings, optional details). */
  optional?: boolean;
  /** Slots taken here without being asked (out of order, corrections); defaults to the flow's. */
  accepts?: (keyof S & string)[];
  /** Where to go when the collected slots are all filled. */
  next?: Target<S, D, St>;
  /** A yes/no question. */
  confirm?: { yes: Target<S, D, St>; no: Target<S, D, St> };
  /** Where to go when the caller changes an already filled slot here; confirm states re-ask. */
  onChange?: Target<S, D, St>;
  /** A system step run on entry (availability, a store's write): decides the next state. */
  run?: (ctx: FlowContext<S, D>) => StepResult<S, St> | Promise<StepResult<S, St>>;
  /** The call ends here: hang up, or hand over to a human. */
  terminal?: { action: 'end_call' | 'handoff'; reason: string };
  onTimeout?: Target<S, D, St>;
  onError?: Target<S, D, St>;
  /** Per-state overrides of the flow's intent targets; null ignores the intent here. */
  intents?: Partial<Record<Intent, NoInfer<St> | null>>;
  /** Keypad menu: digit → state. */
  dtmf?: Partial<Record<string, NoInfer<St>>>;
  /** Failed attempts allowed before the fallback state (default: the flow's). */
  maxRetries?: number;
}

export interface FlowLimits {
  /** Re-prompts per state visit before going to `fallback`. Default 2. */
  maxRetries: number;
  /** Consecutive silences before going to `noInput`. Default 3. */
  maxTimeouts: number;
  /** Caller inputs (speech, keypad, silence) per call before going to `fallback`. Default 60. */
  maxTurns: number;
}

export interface FlowMessages {
  notUnderstood: string;
  stillThere: string;
  yesOrNo: string;
  changed: string;
  dtmfNotUnderstood: string;
  /** `{label}` is the slot's label. */
  invalid: string;
}

export interface FlowSpec<SD extends SlotDefs, D, St extends string> {
  name: string;
  description: string;
  slots: SD;
  /** Fresh scratch data for each call. */
  data?: () => D;
  initial: NoInfer<St>;
  states: { [K in St]: StateDef<SlotValues<SD>, D, St> };
  /** Default `accepts` for every state. */
  accepts?: (keyof SD & string)[];
  /** Where each intent leads from any state (states can override or ignore). */
  intents?: Partial<Record<Intent, NoInfer<St>>>;
  /**
   * The flow's own intents by name (e.g. `stop_calling`), heard in every state like the
   * built-ins and acted on at once: `intents` says where each leads.
   */
  customIntents?: Readonly<Record<string, CustomIntent>>;
  /** Keypad keys that mean an intent anywhere (e.g. '0' → human). */
  dtmfIntents?: Partial<Record<string, Intent>>;
  /** Too many failures in a state, or too many turns. */
  fallback: NoInfer<St>;
  /** Too many silences in a row. */
  noInput: NoInfer<St>;
  /** A step threw (store down...). Defaults to `fallback`. */
  onError?: NoInfer<St>;
  limits?: Partial<FlowLimits>;
  messages?: Partial<FlowMessages>;
  /** Default time zone of the business (engine option overrides). */
  timeZone?: string;
  /** Extra phrases/words for the recognizer (names the flow expects, product words...). */
  vocabulary?: { phrases?: readonly string[]; words?: readonly string[] };
}

/** A validated flow, type-erased for the engine and the registry. */
export interface Flow {
  readonly name: string;
  readonly description: string;
  // biome-ignore lint/suspicious/noExplicitAny: erased at the registry boundary; defineFlow checks it.
  readonly spec: FlowSpec<SlotDefs, any, string>;
  readonly limits: FlowLimits;
  readonly messages: FlowMessages;
}

// ---------------------------------------------------------------------------------------------
// Records (what the engine reports; the host maps them to call events)

export interface TransitionRecord {
  seq: number;
  from_state: string | null;
  to_state: string;
  trigger_type: TriggerType;
  trigger_data: Record<string, unknown>;
  /** Engine time from receiving the input to deciding this transition. */
  latency_ms: number;
  at: Date;
}

export interface SlotRecord {
  slot_name: string;
  /** Text form (extracted_slots.slot_value). */
  slot_value: string;
  value: unknown;
  confidence: number;
  method: 'regex' | 'nlp' | 'llm' | 'dtmf';
  validated: boolean;
  /** Why validation refused it (spoken to the caller). */
  reason?: string;
  state: string;
  /** Index of the user turn it came from (see TurnRecord.turn). */
  turn: number;
  at: Date;
}

export interface TurnRecord {
  turn: number;
  role: 'user' | 'agent';
  text: string;
  state_at_turn: string;
  input: 'speech' | 'dtmf' | 'timeout' | 'start' | 'reply';
  confidence?: number;
  /** Keypad input at a menu: stored in clear; any other keypad input is stored masked. */
  menu_choice?: boolean;
  at: Date;
}

/**
 * A fact a flow's step reports for its own tables (a reservation, a rating, a payment promise):
 * `type` is one of the record types the flow package declares, `data` its schema's shape.
 * The same `id` again means the same row (a later version of it); default a fresh one.
 */
export interface FlowRecord {
  type: string;
  data: Record<string, unknown>;
  id?: string;
}

export interface EngineErrorRecord {
  where: 'step' | 'llm' | 'observer';
  state: string;
  message: string;
  error: unknown;
}

/** Everything the engine learns, as it happens. Every method is optional; throwing is harmless. */
export interface EngineObserver {
  onTransition?(record: TransitionRecord): void;
  onSlot?(record: SlotRecord): void;
  onTurn?(record: TurnRecord): void;
  onRecord?(record: FlowRecord): void;
  onError?(record: EngineErrorRecord): void;
}
