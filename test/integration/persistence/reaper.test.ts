import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CallEvent, makeEvent } from '../../../src/events/index.js';
import type { Persister } from '../../../src/persistence/persister.js';
import { REAPED_REASON, reapStaleCalls } from '../../../src/persistence/reaper.js';
import { callStarted, countRows, persisterSuite, REDIS_URL, type TestDatabase } from './helpers.js';

/**
 * The heartbeat write and the crash reaper against the real Postgres: calls are written
 * through Persister.processBatch with back-dated occurred_at, then reaped with thresholds in
 * seconds. (The periodic reaper inside a running persister, fed through Redis by a producer,
 * is covered in heartbeat-reaper.test.ts.)
 */

const ago = (seconds: number) => new Date(Date.now() - seconds * 1000);

const started = (callId: string, at: Date) => callStarted(callId, at, { worker_id: 'worker-reaper-test' });

const completed = (callId: string, at: Date) =>
  makeEvent('call.ended', callId, { status: 'COMPLETED', ended_at: at.toISOString() }, { occurredAt: at });

const heartbeat = (callId: string, at: Date) => makeEvent('call.heartbeat', callId, {}, { occurredAt: at });

interface ConvRow {
  status: string;
  started_at: Date;
  ended_at: Date | null;
  duration_seconds: number | null;
  end_reason: string | null;
  final_state: string | null;
  last_heartbeat_at: Date | null;
}

describe('call heartbeat and crash reaper', () => {
  const suite = persisterSuite('test-reaper');
  const { queueName } = suite;
  let db: TestDatabase;
  let persister: Persister;
  beforeAll(() => ({ db, persister } = suite));

  const write = async (...events: CallEvent[]) => {
    const r = await persister.processBatch({ events });
    expect(r.deadLettered).toBe(0);
  };
  const conv = async (id: string) =>
    (await db.pool.query<ConvRow>('SELECT * FROM conversations WHERE id = $1', [id])).rows[0];
  const callEvents = async (id: string) =>
    (
      await db.pool.query<{ event_type: string; source: string; event_data: Record<string, unknown> }>(
        'SELECT event_type, source, event_data FROM call_events WHERE conversation_id = $1 ORDER BY occurred_at',
        [id],
      )
    ).rows;

  it('a heartbeat only moves last_heartbeat_at forward, on ACTIVE calls it already knows', async () => {
    const callId = randomUUID();
    await write(started(callId, ago(60)));
    const beat = ago(1);
    await write(heartbeat(callId, ago(20)), heartbeat(callId, beat), heartbeat(callId, ago(10)));
    expect((await conv(callId))?.last_heartbeat_at?.toISOString()).toBe(beat.toISOString());
    // No rows besides the conversation itself.
    const counts = await countRows(db.pool, [callId]);
    expect(Object.entries(counts).filter(([, n]) => n > 0)).toEqual([['conversations', 1]]);

    await write(heartbeat(callId, ago(30))); // late, older beat: no step back
    expect((await conv(callId))?.last_heartbeat_at?.toISOString()).toBe(beat.toISOString());

    const unknown = randomUUID();
    await write(heartbeat(unknown, ago(1))); // no placeholder row from a beat
    expect(await conv(unknown)).toBeUndefined();

    const ended = randomUUID();
    await write(started(ended, ago(50)), completed(ended, ago(40)));
    const before = (await conv(ended))?.last_heartbeat_at?.toISOString();
    await write(heartbeat(ended, ago(1)));
    expect((await conv(ended))?.last_heartbeat_at?.toISOString()).toBe(before);
  });

  it('marks a stale call INTERRUPTED exactly once, keeping everything recorded before', async () => {
    const callId = randomUUID();
    const turnId = randomUUID();
    const lastBeat = ago(90);
    await write(
      started(callId, ago(120)),
      makeEvent(
        'call.lifecycle',
        callId,
        { event_type: 'answered', source: 'telephony' },
        { occurredAt: ago(119) },
      ),
      makeEvent(
        'turn',
        callId,
        { turn_id: turnId, turn_number: 1, role: 'user', text: 'tomorrow at three' },
        { occurredAt: ago(110) },
      ),
      makeEvent(
        'transition',
        callId,
        {
          transition_id: randomUUID(),
          from_state: 'greeting',
          to_state: 'collect_date',
          trigger_type: 'user_input',
        },
        { occurredAt: ago(109) },
      ),
      heartbeat(callId, lastBeat),
    );
    const fresh = randomUUID();
    await write(started(fresh, ago(5)));

    const reaped = await reapStaleCalls(db.pool, { staleSeconds: 30 });
    const mine = reaped.filter((c) => c.id === callId);
    expect(mine).toHaveLength(1);
    expect(reaped.map((c) => c.id)).not.toContain(fresh);

    const row = await conv(callId);
    expect(row).toMatchObject({
      status: 'INTERRUPTED',
      duration_seconds: 30,
      end_reason: REAPED_REASON,
      final_state: 'collect_date',
    });
    expect(row?.ended_at?.toISOString()).toBe(lastBeat.toISOString());
    expect((await conv(fresh))?.status).toBe('ACTIVE');

    const events = await callEvents(callId);
    expect(events.map((e) => e.event_type)).toEqual(['answered', 'timeout']);
    expect(events[1]).toMatchObject({
      source: 'system',
      event_data: { reason: REAPED_REASON, stale_seconds: 30 },
    });
    expect(await countRows(db.pool, [callId])).toMatchObject({
      conversations: 1,
      conversation_turns: 1,
      state_transitions: 1,
      call_events: 2,
    });

    // A second pass finds nothing left to do for this call.
    expect((await reapStaleCalls(db.pool, { staleSeconds: 30 })).map((c) => c.id)).not.toContain(callId);
    expect(await callEvents(callId)).toHaveLength(2);
  });

  it('spares a silent call that keeps sending heartbeats, and calls that ended normally', async () => {
    const quiet = randomUUID();
    await write(started(quiet, ago(300)), heartbeat(quiet, ago(2)));
    const done = randomUUID();
    await write(started(done, ago(300)), completed(done, ago(250)));
    const ids = (await reapStaleCalls(db.pool, { staleSeconds: 30 })).map((c) => c.id);
    expect(ids).not.toContain(quiet);
    expect(ids).not.toContain(done);
    expect((await conv(quiet))?.status).toBe('ACTIVE');
    expect((await conv(done))?.status).toBe('COMPLETED');
  });

  it('measures silence only up to the start of the queue backlog', async () => {
    const callId = randomUUID();
    await write(started(callId, ago(60)), heartbeat(callId, ago(40)));
    // Batches queued since 20 s ago are unwritten: this call's later beats may be among them.
    const held = await reapStaleCalls(db.pool, { staleSeconds: 30, backlogSince: ago(20) });
    expect(held.map((c) => c.id)).not.toContain(callId);
    expect((await conv(callId))?.status).toBe('ACTIVE');
    const reaped = await reapStaleCalls(db.pool, { staleSeconds: 30, backlogSince: null });
    expect(reaped.map((c) => c.id)).toContain(callId);
  });

  it('two reapers running at once transition each stale call once', async () => {
    const ids: string[] = Array.from({ length: 60 }, () => randomUUID());
    for (let i = 0; i < ids.length; i += 20) {
      await write(...ids.slice(i, i + 20).flatMap((id) => [started(id, ago(200)), heartbeat(id, ago(100))]));
    }
    const pools = [0, 1].map(() => new pg.Pool({ connectionString: db.url, max: 2 }));
    try {
      // Small batches and several rounds per reaper maximise interleaving.
      const runs = await Promise.all(
        pools.flatMap((pool, p) =>
          [0, 1, 2].map((r) =>
            reapStaleCalls(pool, { staleSeconds: 30, batchSize: 7, reaperId: `reaper-${p}-${r}` }),
          ),
        ),
      );
      const reaped = runs.flat().map((c) => c.id);
      const mine = reaped.filter((id) => ids.includes(id));
      expect(mine.sort()).toEqual([...ids].sort()); // every call, none twice
      expect(new Set(reaped).size).toBe(reaped.length);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
    const { rows } = await db.pool.query<{ n: string; s: string }>(
      `SELECT count(*) FILTER (WHERE e.event_type = 'timeout') AS n,
              count(DISTINCT c.status) AS s
       FROM conversations c LEFT JOIN call_events e ON e.conversation_id = c.id
       WHERE c.id = ANY($1::uuid[])`,
      [ids],
    );
    expect(Number(rows[0]?.n)).toBe(ids.length);
    expect(Number(rows[0]?.s)).toBe(1);
  });

  it("a call.ended that arrives after the reaper's verdict still finalizes the call", async () => {
    const callId = randomUUID();
    await write(started(callId, ago(100)), heartbeat(callId, ago(60)));
    await reapStaleCalls(db.pool, { staleSeconds: 30 });
    expect((await conv(callId))?.status).toBe('INTERRUPTED');
    const endedAt = ago(55);
    await write(
      makeEvent(
        'call.ended',
        callId,
        { status: 'COMPLETED', final_state: 'terminal', ended_at: endedAt.toISOString() },
        { occurredAt: endedAt },
      ),
    );
    const row = await conv(callId);
    expect(row).toMatchObject({ status: 'COMPLETED', final_state: 'terminal', duration_seconds: 45 });
    expect((await callEvents(callId)).map((e) => e.event_type)).toEqual(['timeout']);
    // ...and once finalized, the reaper leaves it alone.
    expect((await reapStaleCalls(db.pool, { staleSeconds: 1 })).map((c) => c.id)).not.toContain(callId);
  });

  it('`voice-agent reaper run` does one pass with the given threshold (built CLI)', async () => {
    const stale = randomUUID();
    const recent = randomUUID();
    await write(
      started(stale, ago(100)),
      heartbeat(stale, ago(50)),
      started(recent, ago(100)),
      heartbeat(recent, ago(5)),
    );
    const cli = join(import.meta.dirname, '../../../dist/src/cli/main.js');
    const env = { ...process.env, DATABASE_URL: db.url, REDIS_URL, EVENT_QUEUE: queueName };
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [cli, 'reaper', 'run', '--stale-seconds', '20'],
      {
        env,
      },
    );
    const report = JSON.parse(stdout) as { reaped: number; staleSeconds: number; calls: { id: string }[] };
    expect(report.staleSeconds).toBe(20);
    expect(report.calls.map((c) => c.id)).toContain(stale);
    expect(report.calls.map((c) => c.id)).not.toContain(recent);
    expect((await conv(stale))?.status).toBe('INTERRUPTED');
    expect((await conv(recent))?.status).toBe('ACTIVE');

    // Unreadable queue: refuses (calls might be reaped by mistake) unless told to ignore it.
    const badEnv = { ...env, REDIS_URL: 'redis://127.0.0.1:1' };
    const refused = await promisify(execFile)(process.execPath, [cli, 'reaper', 'run'], { env: badEnv }).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(refused?.code).toBe(1);
    expect(refused?.stderr).toMatch(/--ignore-backlog/);
    const forced = await promisify(execFile)(process.execPath, [cli, 'reaper', 'run', '--ignore-backlog'], {
      env: badEnv,
    });
    expect(JSON.parse(forced.stdout)).toMatchObject({ backlogSince: null });
  });

  it('refuses a non-positive threshold', async () => {
    await expect(reapStaleCalls(db.pool, { staleSeconds: 0 })).rejects.toThrow(RangeError);
  });
});
