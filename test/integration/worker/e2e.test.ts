import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentDispatchClient, RoomServiceClient } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { RoomCaller } from '../../../src/caller/room-caller.js';
import { CliProcess } from '../../helpers/cli-process.js';
import { cfg, livekitHttpUrl } from '../../helpers/stack.js';
import { readPcm16Wav, rmsDbfs } from '../../helpers/wav.js';
import {
  createTestDatabase,
  obliterateQueues,
  randomName,
  type TestDatabase,
} from '../persistence/helpers.js';

/**
 * The whole product on the real local stack: `voice-agent worker start` registers with
 * livekit-server, a room is created and the agent dispatched through livekit-server-sdk, a
 * caller participant speaks recorded utterances, the worker answers with the offline
 * providers (pocketsphinx + flite + silero), and `voice-agent persister` writes the call into
 * Postgres. Nothing here is faked.
 */

const fixtures = join(import.meta.dirname, '../../fixtures/audio/16k');
let db: TestDatabase;
let worker: CliProcess;
let persister: CliProcess;
const agentName = randomName('e2e-agent').replace(/_/g, '-');
const queue = randomName('e2e_events');

beforeAll(async () => {
  db = await createTestDatabase();
  const env = {
    DATABASE_URL: db.url,
    EVENT_QUEUE: queue,
    AGENT_NAME: agentName,
    PROVIDER: 'local',
    LOG_LEVEL: 'info',
    WORKER_IDLE_PROCESSES: '1',
    // Dispatch must not depend on how busy the test machine is.
    WORKER_LOAD_INCLUDE_CPU: 'false',
    EVENT_JOURNAL_DIR: mkdtempSync(join(tmpdir(), 'va-e2e-journal-')),
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

describe('worker end to end on the local LiveKit server', () => {
  it('answers a dispatched call, understands the caller, and persists turns and metrics', async () => {
    onTestFailed(() => console.log(`worker output:\n${worker.output.slice(-6000)}`));
    const roomName = randomName('e2e-room');
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
      // greeting, then two caller turns, each answered
      expect(await caller.waitForAgentTurn({ timeoutMs: 45_000 })).toBe(true);
      for (const file of ['greet-book.wav', 'name-john-smith.wav']) {
        const since = Date.now();
        await caller.say(readPcm16Wav(join(fixtures, file)).samples);
        expect(await caller.waitForAgentTurn({ since, timeoutMs: 30_000 }), `reply to ${file}`).toBe(true);
      }
    } finally {
      await caller.hangup();
    }
    expect(rmsDbfs(caller.heardPcm())).toBeGreaterThan(-40);

    // The caller hung up mid-flow: the call is finalized INTERRUPTED, with everything before it.
    const call = await poll(async () => {
      const r = await db.pool.query(
        `SELECT id, status, ended_at, room_name FROM conversations WHERE room_name = $1 AND ended_at IS NOT NULL`,
        [roomName],
      );
      return r.rows[0];
    }, 30_000);
    expect(call.status).toBe('INTERRUPTED');
    const turns = await poll(async () => {
      const r = await db.pool.query(
        `SELECT role, text, state_at_turn FROM conversation_turns WHERE conversation_id = $1 ORDER BY turn_number`,
        [call.id],
      );
      return r.rows.filter((t) => t.role === 'user').length >= 2 ? r.rows : undefined;
    }, 20_000);
    const userTexts = turns.filter((t) => t.role === 'user').map((t) => String(t.text).toLowerCase());
    expect(userTexts.join(' | ')).toMatch(/john smith/);
    expect(turns.filter((t) => t.role === 'agent').length).toBeGreaterThanOrEqual(3);
    expect(turns.every((t) => typeof t.state_at_turn === 'string' && t.state_at_turn.length > 0)).toBe(true);

    const metrics = await db.pool.query(
      `SELECT metric_name, metric_value::float AS v FROM system_metrics WHERE conversation_id = $1`,
      [call.id],
    );
    const v2v = metrics.rows.filter((m) => m.metric_name === 'latency.v2v_ms');
    expect(v2v.length).toBeGreaterThanOrEqual(2);
    for (const m of v2v) expect(m.v).toBeGreaterThan(0);
    const slots = await db.pool.query(
      `SELECT slot_name, slot_value FROM extracted_slots WHERE conversation_id = $1`,
      [call.id],
    );
    expect(slots.rows.find((s) => s.slot_name === 'name')?.slot_value).toBe('John Smith');
    const lifecycle = await db.pool.query(
      `SELECT event_type FROM call_events WHERE conversation_id = $1 ORDER BY occurred_at`,
      [call.id],
    );
    const steps = lifecycle.rows.map((r) => r.event_type);
    expect(steps).toEqual(expect.arrayContaining(['initiated', 'connecting', 'in_progress', 'hangup']));

    // The worker's /metrics merges what the (finished) job process measured.
    const port = Number(worker.output.match(/"http_port":(\d+)/)?.[1]);
    expect(port).toBeGreaterThan(0);
    // The job process exports its metrics as it shuts down, which may be after the DB rows land.
    const text = await poll(async () => {
      const t = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return /voice_agent_calls_ended_total\{outcome="interrupted"\} 1\b/.test(t) ? t : undefined;
    }, 15_000).catch(async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    expect(text).toMatch(/voice_agent_calls_ended_total\{outcome="interrupted"\} 1\b/);
    const v2vCount = Number(
      text.match(/voice_agent_turn_latency_seconds_count\{[^}]*stage="v2v"[^}]*\} (\d+)/)?.[1] ?? 0,
    );
    expect(v2vCount).toBe(v2v.length);
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
