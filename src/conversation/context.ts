import { todayIn } from './clock.js';
import { slotDefs } from './flow.js';
import type { Flow, FlowContext, Template } from './types.js';

export interface ContextInput {
  flow: Flow;
  slots: Readonly<Record<string, unknown>>;
  data: Record<string, unknown>;
  now: Date;
  timeZone: string;
  state: string;
  callId?: string;
  callerNumber?: string;
  random: () => number;
  sentiment?: FlowContext['sentiment'];
}

export function makeContext(input: ContextInput): FlowContext {
  const defs = slotDefs(input.flow);
  const ctx: FlowContext = {
    slots: { ...input.slots },
    data: input.data,
    now: input.now,
    timeZone: input.timeZone,
    today: todayIn(input.now, input.timeZone),
    state: input.state,
    ...(input.callId !== undefined ? { callId: input.callId } : {}),
    ...(input.callerNumber !== undefined ? { callerNumber: input.callerNumber } : {}),
    random: input.random,
    ...(input.sentiment ? { sentiment: input.sentiment } : {}),
    speak: (name) => {
      const value = input.slots[name];
      if (value === undefined || value === null) return '';
      const speak = defs[name]?.speak;
      return speak ? speak(value, ctx) : String(value);
    },
  };
  return ctx;
}

/** A template's text; `{slot}` in string templates becomes the slot's spoken form ('' if empty). */
export function render(template: Template | undefined, ctx: FlowContext): string {
  if (template === undefined) return '';
  if (typeof template === 'function') return template(ctx);
  return template.replace(/\{([a-z_][a-z0-9_]*)\}/gi, (_m, name: string) => ctx.speak(name));
}

export function joinSpeech(parts: readonly string[]): string {
  return parts
    .map((p) => p.trim())
    .filter(Boolean)
    .join(' ');
}
