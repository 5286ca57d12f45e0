import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentDispatchClient, RoomServiceClient } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoomCaller } from '../../../src/caller/room-caller.js';
import { LOAD_TEST_OPENING } from '../../../src/providers/fake/index.js';
import { CliProcess } from '../../helpers/cli-process.js';
import { cfg, livekitHttpUrl } from '../../helpers/stack.js';
import { readPcm16Wav } from '../../helpers/wav.js';
import {
  createTestDatabase,
  obliterateQueues,
  randomName,
  type TestDatabase,
} from '../persistence/helpers.js';

/**
 * PROVIDER=fake, the load-test mode, in a real room: the worker's session still runs silero
 * VAD turn detection and the conversation engine; the fake STT hands out its fixed rotation
 * one transcript per caller utterance, whatever was said, and the fake TTS answers with a tone.
 */

const fixtures = join(import.meta.dirname, '../../fixtures/audio/16k');
let db: TestDatabase;
let worker: CliProcess;
let persister: CliProcess;
const agentName = randomName('fake-agent').replace(/_/g, '-');
const queue = randomName('fake_events');

beforeAll(async () => {
  db = await createTestDatabase();
  const env = {
    DATABASE_URL: db.url,
    EVENT_QUEUE: queue,
    AGENT_NAME: agentName,
    PROVIDER: 'fake',
    LOG_LEVEL: 'info',
    WORKER_IDLE_PROCESSES: '1',
    EVENT_JOURNAL_DIR: mkdtempSync(join(tmpdir(), 'va-fake-journal-')),
  };
  persister = new CliProcess(['persister'], env);
  worker = new CliProcess(['worker', 'start', '--http-port', '0'], env);
  await persister.waitFor(/persister started/);
  await worker.waitFor(/registered worker/i, 60_000);
}, 90_000);

afterAll(async () => {
  await worker?.stop();
  await persister?.stop();
  await db?.drop();
  await obliterateQueues(queue);
});

describe('PROVIDER=fake in a room', () => {
  it('answers each caller utterance with the next transcript of the rotation', async () => {
    const roomName = randomName('fake-room');
    const rooms = new RoomServiceClient(livekitHttpUrl, cfg.LIVEKIT_API_KEY, cfg.LIVEKIT_API_SECRET);
    await rooms.createRoom({ name: roomName, emptyTimeout: 60 });
    const caller = await RoomCaller.join({
      url: cfg.LIVEKIT_URL,
      apiKey: cfg.LIVEKIT_API_KEY,
      apiSecret: cfg.LIVEKIT_API_SECRET,
      room: roomName,
    });
    const dispatch = new AgentDispatchClient(livekitHttpUrl, cfg.LIVEKIT_API_KEY, cfg.LIVEKIT_API_SECRET);
    await dispatch.createDispatch(roomName, agentName, {
      metadata: JSON.stringify({ now: '2025-03-05T15:00:00Z' }),
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
      const r = await db.pool.query(
        `SELECT t.role, t.text, t.state_at_turn FROM conversation_turns t
           JOIN conversations c ON c.id = t.conversation_id
          WHERE c.room_name = $1 ORDER BY t.turn_number`,
        [roomName],
      );
      return r.rows.filter((t) => t.role === 'user').length >= 3 ? r.rows : undefined;
    }, 30_000);
    const user = turns.filter((t) => t.role === 'user').map((t) => String(t.text));
    expect(user).toEqual(LOAD_TEST_OPENING.slice(0, 3));
    // the engine ran the flow on them: name and appointment type were asked for and taken
    expect(turns.filter((t) => t.role === 'agent').length).toBeGreaterThanOrEqual(4);
    expect(turns.at(-1)?.state_at_turn).toBe('collect_date');
  }, 150_000);
});

async function poll<T>(fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting for the database');
    await new Promise((r) => setTimeout(r, 250));
  }
}
