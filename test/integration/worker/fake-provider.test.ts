import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOAD_TEST_OPENING } from '../../../src/providers/fake/index.js';
import { readPcm16Wav } from '../../helpers/wav.js';
import { placeRoomCall, poll, startWorkerStack, type WorkerStack } from '../../helpers/worker-stack.js';

/**
 * PROVIDER=fake, the load-test mode, in a real room: the worker's session still runs silero
 * VAD turn detection and the conversation engine; the fake STT hands out its fixed rotation
 * one transcript per caller utterance, whatever was said, and the fake TTS answers with a tone.
 */

const fixtures = join(import.meta.dirname, '../../fixtures/audio/16k');
const holder: { current?: WorkerStack } = {};
let stack: WorkerStack;

beforeAll(async () => {
  // The process executor's own room test (the default, shared, runs everywhere else).
  stack = await startWorkerStack(
    // debug: the framework's lines that name the participant are written (see the log check).
    { name: 'fake', env: { PROVIDER: 'fake', WORKER_EXECUTOR: 'process', LOG_LEVEL: 'debug' } },
    holder,
  );
}, 120_000);

afterAll(async () => {
  await holder.current?.close();
});

describe('PROVIDER=fake in a room', () => {
  it('answers each caller utterance with the next transcript of the rotation', async () => {
    // A participant named like livekit-sip names phone callers.
    const digits = `1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    const { caller, roomName } = await placeRoomCall(stack.agentName, {
      roomPrefix: 'fake-room',
      metadata: { now: '2025-03-05T15:00:00Z' },
      identity: `sip_+${digits}`,
    });
    try {
      expect(await caller.waitForAgentTurn({ timeoutMs: 30_000 }), 'greeting').toBe(true);
      // Any audible speech will do: these recordings say something else entirely.
      for (const file of ['cancel.wav', 'human.wav', 'goodbye.wav']) {
        const since = Date.now();
        await caller.say(readPcm16Wav(join(fixtures, file)).samples);
        expect(await caller.waitForAgentTurn({ since, timeoutMs: 20_000 }), `reply to ${file}`).toBe(true);
      }
    } finally {
      await caller.hangup();
    }

    const turns = await poll(async () => {
      const r = await stack.db.pool.query(
        `SELECT t.role, t.text, t.state_at_turn FROM conversation_turns t
           JOIN conversations c ON c.id = t.conversation_id
          WHERE c.room_name = $1 ORDER BY t.turn_number`,
        [roomName],
      );
      return r.rows.filter((t) => t.role === 'user').length >= 3 ? r.rows : undefined;
    }, 'the three user turns in Postgres');
    const user = turns.filter((t) => t.role === 'user').map((t) => String(t.text));
    expect(user).toEqual(LOAD_TEST_OPENING.slice(0, 3));
    // the engine ran the flow on them: name and appointment type were asked for and taken
    expect(turns.filter((t) => t.role === 'agent').length).toBeGreaterThanOrEqual(4);
    expect(turns.at(-1)?.state_at_turn).toBe('collect_date');

    // The job process's framework log lines name the participant — masked, like ours.
    expect(stack.worker.output).toMatch(/"lk\.pii\.participant_identity":"sip_\[phone\]"/);
    expect(stack.worker.output).not.toContain(digits);
  }, 150_000);
});
