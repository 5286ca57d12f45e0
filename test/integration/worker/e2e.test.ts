import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { readPcm16Wav, rmsDbfs } from '../../helpers/wav.js';
import { placeRoomCall, poll, startWorkerStack, type WorkerStack } from '../../helpers/worker-stack.js';

/**
 * The whole product on the real local stack: `voice-agent worker start` registers with
 * livekit-server, a room is created and the agent dispatched through livekit-server-sdk, a
 * caller participant speaks recorded utterances, the worker answers with the offline
 * providers (pocketsphinx + flite + silero), and `voice-agent persister` writes the call into
 * Postgres. Nothing here is faked.
 */

const fixtures = join(import.meta.dirname, '../../fixtures/audio/16k');
const holder: { current?: WorkerStack } = {};
let stack: WorkerStack;

beforeAll(async () => {
  stack = await startWorkerStack({ name: 'e2e' }, holder);
}, 120_000);

afterAll(async () => {
  await holder.current?.close();
});

describe('worker end to end on the local LiveKit server', () => {
  it('answers a dispatched call, understands the caller, and persists turns and metrics', async () => {
    onTestFailed(() => console.log(`worker output:\n${stack.worker.output.slice(-6000)}`));
    const { caller, roomName } = await placeRoomCall(stack.agentName, {
      roomPrefix: 'e2e-room',
      metadata: { now: '2025-03-05T15:00:00Z' },
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
      const r = await stack.db.pool.query(
        `SELECT id, status, ended_at, room_name FROM conversations WHERE room_name = $1 AND ended_at IS NOT NULL`,
        [roomName],
      );
      return r.rows[0];
    }, 'the finalized call');
    expect(call.status).toBe('INTERRUPTED');
    const turns = await poll(
      async () => {
        const r = await stack.db.pool.query(
          `SELECT role, text, state_at_turn FROM conversation_turns WHERE conversation_id = $1 ORDER BY turn_number`,
          [call.id],
        );
        return r.rows.filter((t) => t.role === 'user').length >= 2 ? r.rows : undefined;
      },
      'two user turns',
      20_000,
    );
    const userTexts = turns.filter((t) => t.role === 'user').map((t) => String(t.text).toLowerCase());
    expect(userTexts.join(' | ')).toMatch(/john smith/);
    expect(turns.filter((t) => t.role === 'agent').length).toBeGreaterThanOrEqual(3);
    expect(turns.every((t) => typeof t.state_at_turn === 'string' && t.state_at_turn.length > 0)).toBe(true);

    const metrics = await stack.db.pool.query(
      `SELECT metric_name, metric_value::float AS v FROM system_metrics WHERE conversation_id = $1`,
      [call.id],
    );
    const v2v = metrics.rows.filter((m) => m.metric_name === 'latency.v2v_ms');
    expect(v2v.length).toBeGreaterThanOrEqual(2);
    for (const m of v2v) expect(m.v).toBeGreaterThan(0);
    const slots = await stack.db.pool.query(
      `SELECT slot_name, slot_value FROM extracted_slots WHERE conversation_id = $1`,
      [call.id],
    );
    expect(slots.rows.find((s) => s.slot_name === 'name')?.slot_value).toBe('John Smith');
    const lifecycle = await stack.db.pool.query(
      `SELECT event_type FROM call_events WHERE conversation_id = $1 ORDER BY occurred_at`,
      [call.id],
    );
    const steps = lifecycle.rows.map((r) => r.event_type);
    expect(steps).toEqual(expect.arrayContaining(['initiated', 'connecting', 'in_progress', 'hangup']));

    // The worker's /metrics merges what the (finished) job process measured.
    const port = stack.httpPort;
    // The job process exports its metrics as it shuts down, which may be after the DB rows land.
    const text = await poll(
      async () => {
        const t = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return /voice_agent_calls_ended_total\{outcome="interrupted"\} 1\b/.test(t) ? t : undefined;
      },
      'the call in /metrics',
      15_000,
    ).catch(async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    expect(text).toMatch(/voice_agent_calls_ended_total\{outcome="interrupted"\} 1\b/);
    const v2vCount = Number(
      text.match(/voice_agent_turn_latency_seconds_count\{[^}]*stage="v2v"[^}]*\} (\d+)/)?.[1] ?? 0,
    );
    expect(v2vCount).toBe(v2v.length);
  }, 150_000);
});
