import { z } from 'zod';
import { withTimeout } from '../util/async.js';
import { INTENTS, type Intent } from './extract/intents.js';
import { slotDefs } from './flow.js';
import { checked, type Interpretation } from './interpret.js';
import type { Flow, FlowContext } from './types.js';

/**
 * Optional LLM help. The engine stays authoritative: the LLM only *proposes* slot values
 * (through tool calls whose JSON schemas come from the slots' zod validators) and rewords
 * replies. Proposals go through the same validators and business checks as rule-based
 * extractions before any state changes; a failing or slow LLM is ignored (rules still run).
 */

export interface ToolDefinition {
  name: string;
  description: string;
  /** JSON Schema (draft 2020-12) of the arguments object. */
  parameters: Record<string, unknown>;
}

/** `slot` is a slot name, or one of the pseudo-slots `yes_no` and `intent`. */
export interface SlotProposal {
  slot: string;
  value: unknown;
  confidence?: number;
}

export interface ProposeRequest {
  flow: string;
  state: string;
  userText: string;
  /** One `set_<slot>` tool per slot the state accepts, plus `answer_yes_no` / `caller_intent`. */
  tools: ToolDefinition[];
  slots: Readonly<Record<string, unknown>>;
  /** ISO instant and IANA zone, so "tomorrow" can be resolved. */
  now: string;
  timeZone: string;
  /** What the agent last said (the question being answered). */
  lastPrompt: string;
}

export interface PhraseContext {
  flow: string;
  state: string;
  slots: Readonly<Record<string, unknown>>;
  userText?: string;
}

export interface LlmAssist {
  proposeSlots(request: ProposeRequest): Promise<SlotProposal[]>;
  /** How positive `text` is, −1 (very negative) … 1 (very positive), answering `question`. */
  sentiment?(text: string, context: { language: string; question?: string }): Promise<number>;
  /** Rewords a templated reply; must keep every fact (dates, times, codes). */
  phrase?(reply: string, context: PhraseContext): Promise<string>;
}

export const YES_NO_TOOL = 'answer_yes_no';
export const INTENT_TOOL = 'caller_intent';

/** `set_name` → `name`; pseudo tools → `yes_no` / `intent`. */
export function slotOfTool(tool: string): string {
  if (tool === YES_NO_TOOL) return 'yes_no';
  if (tool === INTENT_TOOL) return 'intent';
  return tool.replace(/^set_/, '');
}

function argsSchema(value: z.ZodType, description: string): Record<string, unknown> {
  const schema = z.toJSONSchema(z.object({ value: value.describe(description) }), { unrepresentable: 'any' });
  const { $schema: _ignored, ...rest } = schema as Record<string, unknown>;
  return rest;
}

/** Tool definitions for the slots a state takes (asked ones first). */
export function toolsFor(
  flow: Flow,
  slotNames: readonly string[],
  options: { yesNo?: boolean } = {},
): ToolDefinition[] {
  const defs = slotDefs(flow);
  const tools: ToolDefinition[] = [];
  for (const name of slotNames) {
    const def = defs[name];
    if (!def) continue;
    tools.push({
      name: `set_${name}`,
      description: `Record the caller's ${def.label ?? name.replace(/_/g, ' ')}: ${def.description}`,
      parameters: argsSchema(def.schema, def.description),
    });
  }
  if (options.yesNo) {
    tools.push({
      name: YES_NO_TOOL,
      description: 'The caller answered the yes/no question: true for yes, false for no.',
      parameters: argsSchema(z.boolean(), 'true = yes'),
    });
  }
  const own = Object.entries(flow.spec.customIntents ?? {});
  const ownText = own
    .map(([name, intent]) => `, ${intent.description ?? name.replace(/_/g, ' ')} (${name})`)
    .join('');
  tools.push({
    name: INTENT_TOOL,
    description: `The caller wants a human (human), to stop (cancel), or to hear the question again (repeat)${ownText}.`,
    parameters: argsSchema(
      z.enum([...INTENTS, ...own.map(([name]) => name)] as [string, ...string[]]),
      'what the caller wants',
    ),
  });
  return tools;
}

export interface ProposeInput {
  llm: LlmAssist;
  flow: Flow;
  state: string;
  ctx: FlowContext;
  asked: string[];
  accepts: string[];
  yesNo: boolean;
  lastPrompt: string;
  timeoutMs: number;
}

/**
 * Adds the LLM's proposals to an interpretation that rules could not make sense of. Only slots
 * the state takes are considered, and each value goes through the slot's validators.
 */
export async function addLlmProposals(it: Interpretation, input: ProposeInput): Promise<void> {
  const allowed = [...input.asked, ...input.accepts];
  const proposals = await withTimeout(
    input.llm.proposeSlots({
      flow: input.flow.name,
      state: input.state,
      userText: it.input,
      tools: toolsFor(input.flow, allowed, { yesNo: input.yesNo }),
      slots: input.ctx.slots,
      now: input.ctx.now.toISOString(),
      timeZone: input.ctx.timeZone,
      lastPrompt: input.lastPrompt,
    }),
    input.timeoutMs,
    'LLM assist',
  );
  for (const p of Array.isArray(proposals) ? proposals : []) {
    const slot = slotOfTool(String(p?.slot ?? ''));
    if (slot === 'yes_no') {
      if (input.yesNo && typeof p.value === 'boolean') it.yesNo = p.value;
    } else if (slot === 'intent') {
      const own = Object.keys(input.flow.spec.customIntents ?? {});
      if ([...INTENTS, ...own].includes(String(p.value))) it.intents.push(String(p.value) as Intent);
    } else if (allowed.includes(slot) && !it.results.some((r) => r.slot === slot && r.valid)) {
      const c = typeof p.confidence === 'number' && Number.isFinite(p.confidence) ? p.confidence : 0.8;
      const confidence = Math.round(Math.min(1, Math.max(0, c)) * 100) / 100;
      it.results.push(
        checked(input.flow, slot, p.value, confidence, 'llm', input.asked.includes(slot), input.ctx),
      );
    }
  }
}
