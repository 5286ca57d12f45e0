import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { sipClient, sipStatus } from '../../src/telephony/provisioning.js';
import {
  createTestDatabase,
  obliterateQueues,
  randomName,
  type TestDatabase,
} from '../integration/persistence/helpers.js';
import { CliProcess } from './cli-process.js';

/**
 * The product as an operator runs it for telephony, per test file: its own database and event
 * queue, `voice-agent sip setup` under a unique AGENT_NAME and inbound number (so livekit-sip
 * routes only this file's calls to this file's worker), `voice-agent persister` and
 * `voice-agent worker start`. close() stops both and removes the trunks and dispatch rule.
 */
export interface TelephonyStack {
  db: TestDatabase;
  worker: CliProcess;
  persister: CliProcess;
  agentName: string;
  /** The inbound trunk's number (what a caller dials). */
  number: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

export const LIVEKIT_SIP = '127.0.0.1:5060';

/** A random +1555 number (the fictional range), different for every test and run. */
export function randomNumber(): string {
  return `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
}

/**
 * Starts the stack. `holder.current` is set before anything is started, so an afterAll can
 * close what exists even when a slow machine made the beforeAll hook time out half way.
 */
export async function startTelephonyStack(
  extraEnv: Record<string, string> = {},
  holder: { current?: TelephonyStack } = {},
): Promise<TelephonyStack> {
  const agentName = randomName('sip-agent').replace(/_/g, '-');
  const queue = randomName('sip_events');
  const number = randomNumber();
  let db: TestDatabase | undefined;
  let worker: CliProcess | undefined;
  let persister: CliProcess | undefined;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await worker?.stop();
      await persister?.stop();
      await removeSip(agentName, env).catch(() => undefined);
      await db?.drop();
      await obliterateQueues(queue);
    })();
    return closing;
  };
  const env: Record<string, string> = {
    EVENT_QUEUE: queue,
    AGENT_NAME: agentName,
    PROVIDER: 'local',
    LOG_LEVEL: 'info',
    WORKER_IDLE_PROCESSES: '1',
    // This machine's CPU is shared with other suites: don't let their load stop our calls.
    WORKER_LOAD_INCLUDE_CPU: 'false',
    EVENT_JOURNAL_DIR: mkdtempSync(join(tmpdir(), 'va-sip-journal-')),
    SIP_INBOUND_NUMBERS: number,
    SIP_ALLOWED_ADDRESSES: '127.0.0.1/32',
    ...extraEnv,
  };
  const partial = { agentName, number, env, close } as TelephonyStack;
  holder.current = partial;
  try {
    db = await createTestDatabase();
    env.DATABASE_URL = db.url;
    const setup = new CliProcess(['sip', 'setup'], env);
    const code = await setup.exited;
    if (code !== 0) throw new Error(`voice-agent sip setup failed (${code}):\n${setup.output}`);
    persister = new CliProcess(['persister'], env);
    worker = new CliProcess(['worker', 'start', '--http-port', '0'], env);
    Object.assign(partial, { db, worker, persister });
    await persister.waitFor(/persister started/, 60_000);
    await worker.waitFor(/registered worker/i, 90_000);
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  return partial;
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

/** Polls until fn returns a value (not undefined); throws with `what` on timeout. */
export async function poll<T>(
  fn: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
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
