import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentDispatchClient, RoomServiceClient } from 'livekit-server-sdk';
import { flowMigrationSets } from '../../agents/index.js';
import { RoomCaller } from '../../src/caller/room-caller.js';
import { sleep } from '../../src/util/async.js';
import { signDispatchMetadata } from '../../src/worker/dispatch-signature.js';
import type { JobMetadata } from '../../src/worker/job-metadata.js';
import {
  createTestDatabase,
  obliterateQueues,
  randomName,
  type TestDatabase,
} from '../integration/persistence/helpers.js';
import { CliProcess } from './cli-process.js';
import { cfg, livekitHttpUrl } from './stack.js';

/**
 * The product as an operator runs it, per test file: a scratch database and event queue, a
 * unique AGENT_NAME (so LiveKit dispatches only this file's calls to this file's worker),
 * `voice-agent persister` and `voice-agent worker start`. close() stops both and removes the
 * database and queue; it is safe to call from an afterAll whatever state the start reached.
 */
export interface WorkerStack {
  db: TestDatabase;
  worker: CliProcess;
  persister: CliProcess;
  agentName: string;
  queue: string;
  env: Record<string, string>;
  /** The worker's /healthz /readyz /metrics port (it picks a free one). */
  httpPort: number;
  close(): Promise<void>;
}

export interface WorkerStackOptions {
  /** Prefix of the agent name, queue and journal directory (e.g. `e2e`). */
  name: string;
  env?: Record<string, string>;
  /** Runs once the database exists, before the processes start (e.g. `voice-agent sip setup`). */
  before?: (env: Record<string, string>) => Promise<void>;
  /** Runs on close, after the processes stopped (e.g. removing the SIP trunks). */
  after?: (env: Record<string, string>) => Promise<void>;
}

/**
 * The environment a test worker and persister share: offline providers, info logs, one warm
 * job process (process executor), dispatch independent of the machine's load, their own
 * journal directory.
 */
export function workerEnv(name: string, ids: { queue: string; agentName: string }): Record<string, string> {
  return {
    EVENT_QUEUE: ids.queue,
    AGENT_NAME: ids.agentName,
    PROVIDER: 'local',
    LOG_LEVEL: 'info',
    WORKER_IDLE_PROCESSES: '1',
    // This machine's CPU is shared with other suites: dispatch must not depend on it.
    WORKER_LOAD_INCLUDE_CPU: 'false',
    EVENT_JOURNAL_DIR: mkdtempSync(join(tmpdir(), `va-${name}-journal-`)),
  };
}

/**
 * A call the way LiveKit gets one from a phone: a room, a caller participant in it (a
 * RoomCaller speaking recorded audio), and an explicit dispatch of the agent into the room.
 */
export async function placeRoomCall(
  agentName: string,
  options: { roomPrefix?: string; metadata?: Record<string, unknown>; identity?: string } = {},
): Promise<{ caller: RoomCaller; roomName: string }> {
  const roomName = randomName(options.roomPrefix ?? 'room');
  await new RoomServiceClient(livekitHttpUrl, cfg.LIVEKIT_API_KEY, cfg.LIVEKIT_API_SECRET).createRoom({
    name: roomName,
    emptyTimeout: 60,
  });
  const caller = await RoomCaller.join({
    url: cfg.LIVEKIT_URL,
    apiKey: cfg.LIVEKIT_API_KEY,
    apiSecret: cfg.LIVEKIT_API_SECRET,
    room: roomName,
    ...(options.identity ? { identity: options.identity } : {}),
  });
  await new AgentDispatchClient(livekitHttpUrl, cfg.LIVEKIT_API_KEY, cfg.LIVEKIT_API_SECRET).createDispatch(
    roomName,
    agentName,
    options.metadata
      ? {
          metadata: JSON.stringify(
            signDispatchMetadata(options.metadata as JobMetadata, {
              secret: cfg.DISPATCH_SIGNING_SECRET,
              room: roomName,
            }),
          ),
        }
      : {},
  );
  return { caller, roomName };
}

/**
 * Starts the stack. `holder.current` is set before anything is started, so an afterAll can
 * close what exists even when a slow machine made the beforeAll hook time out half way.
 */
export async function startWorkerStack(
  options: WorkerStackOptions,
  holder: { current?: WorkerStack } = {},
): Promise<WorkerStack> {
  const agentName = randomName(`${options.name}-agent`).replace(/_/g, '-');
  const queue = randomName(`${options.name}_events`);
  let db: TestDatabase | undefined;
  let worker: CliProcess | undefined;
  let persister: CliProcess | undefined;
  let closing: Promise<void> | undefined;
  const env: Record<string, string> = {
    ...workerEnv(options.name, { queue, agentName }),
    ...options.env,
  };
  const close = () => {
    closing ??= (async () => {
      await worker?.stop();
      await persister?.stop();
      await options.after?.(env).catch(() => undefined);
      await db?.drop();
      await obliterateQueues(queue);
    })();
    return closing;
  };
  const stack = { agentName, queue, env, close } as WorkerStack;
  holder.current = stack;
  try {
    // As `migrate up` does in production: the core schema and every flow package's tables.
    db = await createTestDatabase({ flows: flowMigrationSets() });
    env.DATABASE_URL = db.url;
    await options.before?.(env);
    persister = new CliProcess(['persister'], env);
    worker = new CliProcess(['worker', 'start', '--http-port', '0'], env);
    Object.assign(stack, { db, worker, persister });
    await persister.waitFor(/persister started/, 60_000);
    const starting = await worker.waitFor(/"http_port":(\d+)/, 90_000);
    stack.httpPort = Number(starting[1]);
    await worker.waitFor(/registered worker/i, 90_000);
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  return stack;
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
    await sleep(200);
  }
}
