import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomCaller } from '../../../src/caller/room-caller.js';
import { LOAD_TEST_OPENING } from '../../../src/providers/fake/index.js';
import { readPcm16Wav } from '../../helpers/wav.js';
import { placeRoomCall, poll, startWorkerStack, type WorkerStack } from '../../helpers/worker-stack.js';

/**
 * WORKER_EXECUTOR=shared on the real stack: one worker process carries several calls at once
 * (no job processes), each call keeps its own conversation (its own fake STT rotation, engine
 * state and records), the worker refuses to be ready at MAX_CONCURRENT_CALLS, and every call
 * is persisted under the same worker.
 */

const fixtures = join(import.meta.dirname, '../../fixtures/audio/16k');
const MAX_CALLS = 2;
const holder: { current?: WorkerStack } = {};
let stack: WorkerStack;

beforeAll(async () => {
  stack = await startWorkerStack(
    {
      name: 'shared',
      env: { PROVIDER: 'fake', WORKER_EXECUTOR: 'shared', MAX_CONCURRENT_CALLS: String(MAX_CALLS) },
    },
    holder,
  );
}, 120_000);

afterAll(async () => {
  await holder.current?.close();
});

const placeCall = () =>
  placeRoomCall(stack.agentName, { roomPrefix: 'shared-room', metadata: { now: '2025-03-05T15:00:00Z' } });

async function talk(caller: RoomCaller, files: string[]): Promise<void> {
  expect(await caller.waitForAgentTurn({ timeoutMs: 30_000 }), 'greeting').toBe(true);
  for (const file of files) {
    const since = Date.now();
    await caller.say(readPcm16Wav(join(fixtures, file)).samples);
    expect(await caller.waitForAgentTurn({ since, timeoutMs: 20_000 }), `reply to ${file}`).toBe(true);
  }
}

describe('shared executor', () => {
  it('carries concurrent calls in the worker process, each with its own conversation', async () => {
    const calls = await Promise.all([placeCall(), placeCall()]);
    try {
      // Both calls talk at the same time; each must get its own rotation (opening, then name).
      await Promise.all(calls.map(({ caller }) => talk(caller, ['cancel.wav', 'human.wav'])));

      const ready = await fetch(`http://127.0.0.1:${stack.httpPort}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.text()).toMatch(/at maximum concurrent calls/);
      const health = (await (await fetch(`http://127.0.0.1:${stack.httpPort}/healthz`)).json()) as Record<
        string,
        unknown
      >;
      expect(health).toMatchObject({ executor: 'shared', active_calls: MAX_CALLS });
      // The calls live in the worker itself: no job processes were started for them.
      expect(childCommands(stack.worker.proc.pid!)).not.toMatch(/job_proc_lazy_main/);
    } finally {
      await Promise.all(calls.map(({ caller }) => caller.hangup()));
    }

    for (const { roomName } of calls) {
      const turns = await poll(async () => {
        const r = await stack.db.pool.query(
          `SELECT t.role, t.text, c.worker_id, c.ended_at FROM conversation_turns t
             JOIN conversations c ON c.id = t.conversation_id
            WHERE c.room_name = $1 ORDER BY t.turn_number`,
          [roomName],
        );
        return r.rows.filter((t) => t.role === 'user').length >= 2 && r.rows[0]?.ended_at
          ? r.rows
          : undefined;
      }, `the finalized call in ${roomName}`);
      expect(turns.filter((t) => t.role === 'user').map((t) => String(t.text))).toEqual(
        LOAD_TEST_OPENING.slice(0, 2),
      );
    }
    const workers = await stack.db.pool.query(
      `SELECT DISTINCT worker_id FROM conversations WHERE room_name = ANY($1)`,
      [calls.map((c) => c.roomName)],
    );
    expect(workers.rows).toHaveLength(1);
    // Both ended, so the worker is ready for calls again.
    await poll(
      async () => ((await fetch(`http://127.0.0.1:${stack.httpPort}/readyz`)).ok ? true : undefined),
      'ready again',
      15_000,
    );
  }, 150_000);
});

function childCommands(pid: number): string {
  try {
    return execFileSync('ps', ['-o', 'args=', '--ppid', String(pid)], { encoding: 'utf8' });
  } catch {
    return ''; // ps exits 1 when the process has no children
  }
}
