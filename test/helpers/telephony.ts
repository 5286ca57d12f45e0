import { loadConfig } from '../../src/config/config.js';
import { sipClient, sipStatus } from '../../src/telephony/provisioning.js';
import type { TestDatabase } from '../integration/persistence/helpers.js';
import { CliProcess } from './cli-process.js';
import { poll, startWorkerStack, type WorkerStack } from './worker-stack.js';

export { poll };

/**
 * The product as an operator runs it for telephony, per test file: the worker stack
 * (worker-stack.ts) plus `voice-agent sip setup` under its unique AGENT_NAME and inbound
 * number (so livekit-sip routes only this file's calls to this file's worker). close() also
 * removes the trunks and dispatch rule.
 */
export interface TelephonyStack extends WorkerStack {
  /** The inbound trunk's number (what a caller dials). */
  number: string;
}

export const LIVEKIT_SIP = '127.0.0.1:5060';

/** A random +1555 number (the fictional range), different for every test and run. */
export function randomNumber(): string {
  return `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
}

/** Starts the stack; `holder.current` is set before anything starts (see startWorkerStack). */
export async function startTelephonyStack(
  extraEnv: Record<string, string> = {},
  holder: { current?: TelephonyStack } = {},
): Promise<TelephonyStack> {
  const number = randomNumber();
  const inner: { current?: WorkerStack } = {};
  const started = startWorkerStack(
    {
      name: 'sip',
      env: { SIP_INBOUND_NUMBERS: number, SIP_ALLOWED_ADDRESSES: '127.0.0.1/32', ...extraEnv },
      before: async (env) => {
        const setup = new CliProcess(['sip', 'setup'], env);
        const code = await setup.exited;
        if (code !== 0) throw new Error(`voice-agent sip setup failed (${code}):\n${setup.output}`);
      },
      after: (env) => removeSip(env.AGENT_NAME!, env),
    },
    inner,
  );
  // startWorkerStack fills inner.current synchronously, before its first await.
  holder.current = Object.assign(inner.current!, { number });
  return Object.assign(await started, { number });
}

async function removeSip(agentName: string, env: Record<string, string>) {
  const cfg = loadConfig({ ...process.env, ...env });
  const client = sipClient(cfg);
  const s = await sipStatus(cfg, client);
  for (const r of s.dispatch.filter((r) => r.name.startsWith(`${agentName}-`)))
    await client.deleteSipDispatchRule(r.sipDispatchRuleId);
  for (const t of [...s.inbound, ...s.outbound].filter((t) => t.name.startsWith(`${agentName}-`)))
    await client.deleteSipTrunk(t.sipTrunkId);
}

export interface ConversationRow {
  id: string;
  status: string;
  end_reason: string | null;
  direction: string | null;
  room_name: string;
  sip_call_id: string | null;
  trunk_number: string | null;
  caller_number_encrypted: Buffer | null;
  caller_number_hash: Buffer | null;
  started_at: Date;
  ended_at: Date | null;
  duration_seconds: number | null;
  final_state: string | null;
  started_event_id: string | null;
  ended_event_id: string | null;
  flow: string | null;
}

/** The finalized conversations row matching `where` (e.g. by caller hash or room). */
export async function finalizedCall(
  db: TestDatabase,
  where: string,
  params: unknown[],
  timeoutMs = 30_000,
): Promise<ConversationRow> {
  return poll(
    async () => {
      const r = await db.pool.query<ConversationRow>(
        `SELECT * FROM conversations WHERE ${where} AND ended_at IS NOT NULL ORDER BY started_at DESC LIMIT 1`,
        params,
      );
      return r.rows[0];
    },
    `a finalized call (${where})`,
    timeoutMs,
  );
}

/** The call's lifecycle steps in order (call_events.event_type). */
export async function callEvents(
  db: TestDatabase,
  callId: string,
): Promise<{ event_type: string; source: string | null; event_data: Record<string, unknown> | null }[]> {
  const r = await db.pool.query(
    `SELECT event_type, source, event_data FROM call_events WHERE conversation_id = $1 ORDER BY occurred_at, created_at`,
    [callId],
  );
  return r.rows;
}

/** The worker's last log lines, without the noise a busy machine adds. */
export function workerLogTail(stack: TelephonyStack, lines = 40): string {
  return stack.worker.output
    .split('\n')
    .filter((l) => !/VAD inference|event loop|not scheduled/.test(l))
    .slice(-lines)
    .join('\n');
}

/** Runs `body`; when it fails, appends each of `sections` (sipp trace, worker log…) to the error. */
export async function withDiagnostics<T>(
  body: () => Promise<T>,
  sections: () => Promise<Record<string, string>>,
): Promise<T> {
  try {
    return await body();
  } catch (err) {
    const e = err as Error;
    for (const [name, text] of Object.entries(await sections())) e.message += `\n--- ${name} ---\n${text}`;
    throw e;
  }
}
