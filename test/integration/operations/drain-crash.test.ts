import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomCaller } from '../../../src/caller/room-caller.js';
import { sleep } from '../../../src/util/async.js';
import { CliProcess } from '../../helpers/cli-process.js';
import { readPcm16Wav } from '../../helpers/wav.js';
import { placeRoomCall, workerEnv } from '../../helpers/worker-stack.js';
import {
  createTestDatabase,
  obliterateQueues,
  randomName,
  type TestDatabase,
} from '../persistence/helpers.js';

/**
 * Operations on the real stack: a worker drained with SIGTERM mid-call ends the call politely
 * and every event it emitted reaches Postgres; a worker killed with SIGKILL mid-call leaves
 * the call to the persister's heartbeat reaper, which marks it INTERRUPTED, with the events
 * from before the kill kept.
 */

const fixtures = join(import.meta.dirname, '../../fixtures/audio/16k');
const queue = randomName('ops_events');
let db: TestDatabase;
let persister: CliProcess;
const workers: CliProcess[] = [];

type Executor = 'process' | 'shared';

function env(agentName: string, executor: Executor = 'process'): Record<string, string> {
  return {
    ...workerEnv('ops', { queue, agentName }),
    WORKER_EXECUTOR: executor,
    DATABASE_URL: db.url,
    DRAIN_TIMEOUT_SECONDS: '3',
    REAPER_STALE_SECONDS: '8',
    REAPER_INTERVAL_SECONDS: '1',
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  persister = new CliProcess(['persister'], env('unused'));
  await persister.waitFor(/persister started/);
}, 60_000);

afterAll(async () => {
  for (const w of workers) await w.stop('SIGKILL');
  await persister?.stop();
  await db?.drop();
  await obliterateQueues(queue);
});

/** Starts a worker, places a call and lets the caller say one thing that gets answered. */
async function callInProgress(
  executor: Executor,
): Promise<{ worker: CliProcess; caller: RoomCaller; roomName: string }> {
  const agentName = randomName('ops-agent').replace(/_/g, '-');
  const worker = new CliProcess(['worker', 'start', '--http-port', '0'], env(agentName, executor));
  workers.push(worker);
  await worker.waitFor(/registered worker/i, 60_000);
  const { caller, roomName } = await placeRoomCall(agentName, { roomPrefix: 'ops-room' });
  expect(await caller.waitForAgentTurn({ timeoutMs: 45_000 }), 'greeting').toBe(true);
  const since = Date.now();
  await caller.say(readPcm16Wav(join(fixtures, 'greet-book.wav')).samples);
  expect(await caller.waitForAgentTurn({ since, timeoutMs: 30_000 }), 'reply').toBe(true);
  return { worker, caller, roomName };
}

async function endedCall(roomName: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await db.pool.query(
      `SELECT id, status, end_reason, ended_at FROM conversations WHERE room_name = $1 AND ended_at IS NOT NULL`,
      [roomName],
    );
    if (r.rows[0]) return r.rows[0];
    if (Date.now() > deadline) throw new Error(`call in ${roomName} not finalized within ${timeoutMs} ms`);
    await sleep(250);
  }
}

const TABLE_OF: Record<string, string> = {
  turn: 'conversation_turns',
  transition: 'state_transitions',
  slot: 'extracted_slots',
  metric: 'system_metrics',
  error: 'error_logs',
  'call.lifecycle': 'call_events',
  appointment: 'appointments',
  feedback: 'user_feedback',
};

describe.each(['process', 'shared'] as const)('operations on the real stack (%s executor)', (executor) => {
  it('SIGTERM mid-call: drains, ends the call politely, and every emitted event is persisted', async () => {
    const { worker, caller, roomName } = await callInProgress(executor);
    const heardBefore = caller.heard.length;
    worker.proc.kill('SIGTERM');
    const code = await worker.exited;
    expect(code).toBe(0);
    expect(worker.output).toMatch(/draining/);
    // The shutdown goodbye reached the caller after the signal.
    expect(caller.heard.length).toBeGreaterThan(heardBefore);
    await caller.hangup();

    const call = await endedCall(roomName, 20_000);
    expect(call.status).toBe('INTERRUPTED');
    expect(call.end_reason).toBe('worker_shutdown');
    const line = worker.output.split('\n').find((l) => l.includes('call events handed over'));
    expect(line, 'the job reports what it emitted').toBeDefined();
    const { events, dropped } = JSON.parse(line!) as { events: Record<string, number>; dropped: number };
    expect(dropped).toBe(0);
    expect(events.turn).toBeGreaterThanOrEqual(2);
    // Give the persister a moment for the last batch, then compare table by table.
    await sleep(1500);
    for (const [type, table] of Object.entries(TABLE_OF)) {
      const r = await db.pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE conversation_id = $1`, [
        call.id,
      ]);
      expect(r.rows[0].n, `${type} → ${table}`).toBe(events[type] ?? 0);
    }
  }, 150_000);

  it('SIGKILL mid-call: the heartbeat reaper marks the call INTERRUPTED and keeps earlier events', async () => {
    const { worker, caller, roomName } = await callInProgress(executor);
    // A crash takes the whole worker down, job processes included (the shared executor has
    // none: the call is inside the worker).
    const children = childPids(worker.proc.pid!);
    if (executor === 'process') expect(children.length).toBeGreaterThan(0);
    const killedAt = Date.now();
    for (const pid of [worker.proc.pid!, ...children]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await worker.exited;
    await caller.hangup();

    // The reaper acts once the heartbeat is stale; on a busy 2-core CI run that took over 40 s.
    const call = await endedCall(roomName, 90_000);
    expect(call.status).toBe('INTERRUPTED');
    expect(call.end_reason).toBe('heartbeat_lost');
    // ended_at is the last heartbeat the dead worker sent, i.e. before the kill
    expect(new Date(call.ended_at).getTime()).toBeLessThanOrEqual(killedAt + 1000);
    const turns = await db.pool.query(
      `SELECT role, text FROM conversation_turns WHERE conversation_id = $1 ORDER BY turn_number`,
      [call.id],
    );
    expect(turns.rows.filter((t) => t.role === 'user').length).toBeGreaterThanOrEqual(1);
    expect(turns.rows.filter((t) => t.role === 'agent').length).toBeGreaterThanOrEqual(2);
    const reaped = await db.pool.query(
      `SELECT event_data->>'reason' AS reason FROM call_events WHERE conversation_id = $1 AND event_type = 'timeout'`,
      [call.id],
    );
    expect(reaped.rows.map((r) => r.reason)).toEqual(['heartbeat_lost']);
  }, 150_000);
});

function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}
