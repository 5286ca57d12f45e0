import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import {
  ConversationEngine,
  type EngineOptions,
  type EngineReply,
  FakeBookingStore,
  isValidIsoDate,
} from '../src/conversation/index.js';
import { flowNames, getFlow, isFlowName } from './index.js';

/**
 * Caller scripts (test/fixtures/calls/*.yaml): what a caller says, types and leaves silent,
 * and what the call must achieve. The audio simulator speaks them through TTS → VAD → STT;
 * `runScriptAsText` plays them straight into the engine, which is the fast check that the
 * flow itself gets the task done.
 *
 *   flow: appointment-booking
 *   now: 2025-03-05T15:00:00Z          # the call's clock (the flow's time zone applies)
 *   voice: slt                          # flite voice for the simulator
 *   setup: { bookings: [...] }          # optional: existing bookings (reschedule, cancel)
 *   turns:
 *     - say: "my name is john smith"    # lowercase words, numbers in words
 *       barge_in_after_ms: 1500         # optional: start talking over the agent's reply
 *     - silence_ms: 10500               # quiet line (one no-input timeout per 10 s)
 *     - dtmf: "1"
 *   expect: { final_state: goodbye, slots: { name: John Smith }, appointment: true }
 */

const bargeIn = { barge_in_after_ms: z.number().int().nonnegative().optional() };

export const callTurnSchema = z.union([
  z.strictObject({ say: z.string().min(1), ...bargeIn }),
  z.strictObject({ silence_ms: z.number().int().positive() }),
  z.strictObject({ dtmf: z.string().regex(/^[0-9*#]+$/), ...bargeIn }),
]);

export const seedBookingSchema = z.strictObject({
  date: z.string().refine(isValidIsoDate, 'must be YYYY-MM-DD'),
  time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/),
  confirmation_code: z.string().min(1),
  user_name: z.string().optional(),
  appointment_type: z.string().optional(),
  contact_info: z.string().optional(),
});

export const callScriptSchema = z.strictObject({
  name: z.string().optional(),
  flow: z.string().refine(isFlowName, { message: `must be one of: ${flowNames.join(', ')}` }),
  now: z.iso.datetime({ offset: true }),
  voice: z.string().default('slt'),
  barge_in_after_ms: z.number().int().nonnegative().optional(),
  setup: z.strictObject({ bookings: z.array(seedBookingSchema).default([]) }).optional(),
  turns: z.array(callTurnSchema).min(1),
  expect: z.strictObject({
    final_state: z.string(),
    slots: z.record(z.string(), z.unknown()).default({}),
    appointment: z.boolean(),
  }),
});

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
  return parsed.data;
}

export async function loadCallScript(path: string): Promise<CallScript> {
  return parseCallScript(await readFile(path, 'utf8'), path);
}

/**
 * An engine for the script's flow with a fake store seeded from `setup`, whose clock stands
 * still at `now` (so runs are reproducible).
 */
export function createScriptedEngine(
  script: CallScript,
  options: EngineOptions = {},
): { engine: ConversationEngine; store: FakeBookingStore } {
  const store = new FakeBookingStore();
  for (const b of script.setup?.bookings ?? []) {
    store.seed({
      date: b.date,
      time: b.time,
      confirmationCode: b.confirmation_code,
      userName: b.user_name ?? null,
      type: b.appointment_type ?? null,
      contact: b.contact_info ?? null,
    });
  }
  if (!isFlowName(script.flow)) throw new Error(`unknown flow ${script.flow}`);
  const now = new Date(script.now);
  const engine = new ConversationEngine(getFlow(script.flow, { store }), { now: () => now, ...options });
  return { engine, store };
}

export interface TextRunResult {
  script: CallScript;
  exchanges: { input: string; reply: EngineReply }[];
  finalState: string;
  slots: Record<string, unknown>;
  appointment: boolean;
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
  const appointment = engine.appointment !== null;
  const failures: string[] = [];
  if (engine.state !== script.expect.final_state) {
    failures.push(`final state ${engine.state}, expected ${script.expect.final_state}`);
  }
  for (const [k, v] of Object.entries(script.expect.slots)) {
    if (JSON.stringify(slots[k]) !== JSON.stringify(v)) {
      failures.push(`slot ${k} = ${JSON.stringify(slots[k])}, expected ${JSON.stringify(v)}`);
    }
  }
  if (appointment !== script.expect.appointment)
    failures.push(`appointment ${appointment}, expected ${script.expect.appointment}`);
  return { script, exchanges, finalState: engine.state, slots, appointment, failures };
}
