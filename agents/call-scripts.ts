import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import {
  type AnyFlowPackage,
  ConversationEngine,
  type EngineOptions,
  type EngineReply,
  type FlowRecord,
} from '../src/conversation/index.js';
import { flowNames, getFlowPackage, isFlowName } from './index.js';

/**
 * Caller scripts (agents/<flow>/calls/*.yaml): what a caller says, types and leaves silent,
 * and what the call must achieve. The audio simulator speaks them through TTS → VAD → STT;
 * `runScriptAsText` plays them straight into the engine, which is the fast check that the
 * flow itself gets the task done.
 *
 *   flow: appointment-booking
 *   now: 2025-03-05T15:00:00Z          # the call's clock (the flow's time zone applies)
 *   voice: slt                          # flite voice for the simulator
 *   setup: { bookings: [...] }          # optional, the flow's own: data the call meets
 *   settings: { businessName: … }       # optional, the route's settings for this call
 *   turns:
 *     - say: "my name is john smith"    # lowercase words, numbers in words
 *       barge_in_after_ms: 1500         # optional: start talking over the agent's reply
 *     - silence_ms: 10500               # quiet line (one no-input timeout per 10 s)
 *     - dtmf: "1"
 *   expect: { final_state: goodbye, slots: { name: John Smith }, appointment: true }
 *
 * `setup` and every `expect` key besides final_state and slots belong to the flow: its
 * package's `scripts.setup` and `scripts.expectations` schemas validate them.
 */

const bargeIn = { barge_in_after_ms: z.number().int().nonnegative().optional() };

export const callTurnSchema = z.union([
  z.strictObject({ say: z.string().min(1), ...bargeIn }),
  z.strictObject({ silence_ms: z.number().int().positive() }),
  z.strictObject({ dtmf: z.string().regex(/^[0-9*#]+$/), ...bargeIn }),
]);

export const callScriptSchema = z.strictObject({
  name: z.string().optional(),
  flow: z.string().refine(isFlowName, { message: `must be one of: ${flowNames.join(', ')}` }),
  now: z.iso.datetime({ offset: true }),
  voice: z.string().default('slt'),
  barge_in_after_ms: z.number().int().nonnegative().optional(),
  setup: z.unknown().optional(),
  /** The route's settings for this call (the flow package's settings schema); default `{}`. */
  settings: z.record(z.string(), z.unknown()).optional(),
  turns: z.array(callTurnSchema).min(1),
  expect: z.looseObject({
    final_state: z.string(),
    slots: z.record(z.string(), z.unknown()).default({}),
  }),
});

/** The flow-defined part of `expect`: everything but final_state and slots. */
export function flowExpectations(expect: CallScript['expect']): Record<string, unknown> {
  const { final_state: _state, slots: _slots, ...rest } = expect;
  return rest;
}

/** Problems of the script's flow-defined parts (`setup`, `expect`) by the package's schemas. */
export function flowScriptProblems(
  pkg: AnyFlowPackage,
  script: Pick<CallScript, 'setup' | 'expect'> & { settings?: Record<string, unknown> | undefined },
): string[] {
  const problems: string[] = [];
  const issues = (
    where: string,
    r: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } },
  ) => {
    for (const i of r.error?.issues ?? [])
      problems.push(`${where}${i.path.length ? `.${i.path.join('.')}` : ''}: ${i.message}`);
  };
  issues('settings', pkg.settings.safeParse(script.settings ?? {}));
  if (!pkg.scripts) {
    if (script.setup !== undefined) problems.push(`setup: flow ${pkg.name} takes no setup`);
    return problems;
  }
  if (script.setup !== undefined) issues('setup', pkg.scripts.setup.safeParse(script.setup));
  issues('expect', pkg.scripts.expectations.safeParse(flowExpectations(script.expect)));
  return problems;
}

export type CallScript = z.infer<typeof callScriptSchema>;
export type CallTurn = z.infer<typeof callTurnSchema>;

/** The audio pipeline's default no-input timeout: one engine timeout per this much silence. */
export const NO_INPUT_TIMEOUT_MS = 10_000;

export function parseCallScript(text: string, source = 'call script'): CallScript {
  const parsed = callScriptSchema.safeParse(parse(text));
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${source}: ${why}`);
  }
  const problems = flowScriptProblems(getFlowPackage(parsed.data.flow), parsed.data);
  if (problems.length) throw new Error(`${source}: ${problems.join('; ')}`);
  return parsed.data;
}

export async function loadCallScript(path: string): Promise<CallScript> {
  return parseCallScript(await readFile(path, 'utf8'), path);
}

/**
 * An engine for the script's flow on the package's offline resources seeded from `setup`
 * (no database), whose clock stands still at `now` (so runs are reproducible).
 */
export function createScriptedEngine(
  script: Pick<CallScript, 'flow' | 'now' | 'setup' | 'settings'>,
  options: EngineOptions = {},
): { engine: ConversationEngine; resources: unknown } {
  const pkg = getFlowPackage(script.flow);
  if (!pkg.scripts) throw new Error(`flow ${pkg.name} has no offline resources for scripted calls`);
  const resources = pkg.scripts.offline(script.setup);
  const flow = pkg.createFlow({ settings: pkg.settings.parse(script.settings ?? {}), resources });
  const now = new Date(script.now);
  const engine = new ConversationEngine(flow, { now: () => now, ...options });
  return { engine, resources };
}

/** Failures of the script's flow-defined expectations against the call's records. */
export function checkFlowExpectations(
  flow: string,
  expect: CallScript['expect'],
  records: readonly FlowRecord[],
): string[] {
  const pkg = getFlowPackage(flow);
  return pkg.scripts ? pkg.scripts.check(flowExpectations(expect), records) : [];
}

export interface TextRunResult {
  script: CallScript;
  exchanges: { input: string; reply: EngineReply }[];
  finalState: string;
  slots: Record<string, unknown>;
  /** The flow's records of the call (see StepResult.records). */
  records: FlowRecord[];
  /** Expectations that failed (empty = task success). */
  failures: string[];
}

/** Plays a script straight into the engine (no audio) and checks its expectations. */
export async function runScriptAsText(
  script: CallScript,
  options: EngineOptions = {},
): Promise<TextRunResult> {
  const { engine } = createScriptedEngine(script, options);
  const exchanges: TextRunResult['exchanges'] = [{ input: '(call starts)', reply: await engine.start() }];
  for (const turn of script.turns) {
    if (engine.isTerminal) break;
    if ('say' in turn) exchanges.push({ input: turn.say, reply: await engine.handleUserText(turn.say) });
    else if ('dtmf' in turn)
      exchanges.push({ input: `[dtmf ${turn.dtmf}]`, reply: await engine.handleDtmf(turn.dtmf) });
    else {
      for (let n = Math.floor(turn.silence_ms / NO_INPUT_TIMEOUT_MS); n > 0 && !engine.isTerminal; n--) {
        exchanges.push({ input: '[silence]', reply: await engine.handleTimeout() });
      }
    }
  }
  const slots = { ...engine.slots };
  const records = [...engine.flowRecords];
  const failures: string[] = [];
  if (engine.state !== script.expect.final_state) {
    failures.push(`final state ${engine.state}, expected ${script.expect.final_state}`);
  }
  for (const [k, v] of Object.entries(script.expect.slots)) {
    if (JSON.stringify(slots[k]) !== JSON.stringify(v)) {
      failures.push(`slot ${k} = ${JSON.stringify(slots[k])}, expected ${JSON.stringify(v)}`);
    }
  }
  failures.push(...checkFlowExpectations(script.flow, script.expect, records));
  return { script, exchanges, finalState: engine.state, slots, records, failures };
}
