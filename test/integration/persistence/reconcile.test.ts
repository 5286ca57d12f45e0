import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CallEvent, CountingSink, MemoryEventSink } from '../../../src/events/index.js';
import type { Persister } from '../../../src/persistence/persister.js';
import { countIncomplete } from '../../../src/persistence/reconcile.js';
import { CallLifecycle } from '../../../src/worker/call-lifecycle.js';
import { CLI } from '../../helpers/cli-process.js';
import { persisterSuite, REDIS_URL, sampleCall, type TestDatabase } from './helpers.js';

/** sampleCall's events with its call.ended declaring one of each (what CountingSink counts). */
function declaredCall(): CallEvent[] {
  const events = sampleCall();
  const ended = events.find((e) => e.type === 'call.ended');
  if (ended?.type !== 'call.ended') throw new Error('sample changed');
  const counts: Record<string, number> = {};
  for (const e of events) if (e.type !== 'call.ended') counts[e.type] = (counts[e.type] ?? 0) + 1;
  ended.payload.event_counts = counts;
  return events;
}

async function complete(db: TestDatabase, callId: string): Promise<boolean | undefined> {
  return (await db.pool.query('SELECT complete FROM call_reconciliation WHERE call_id = $1', [callId]))
    .rows[0]?.complete;
}

describe('reconciliation', () => {
  let db: TestDatabase;
  let persister: Persister;
  const suite = persisterSuite('test-reconcile');
  beforeAll(() => ({ db, persister } = suite));

  it('call.ended declares what the call handed to its counting sink', () => {
    const sink = new CountingSink(new MemoryEventSink());
    const lifecycle = new CallLifecycle(sink, randomUUID());
    lifecycle.step('in_progress');
    lifecycle.end({ status: 'COMPLETED', reason: 'done' });
    const inner = (sink as unknown as { inner: MemoryEventSink }).inner;
    const [ended] = inner.ofType('call.ended');
    // in_progress and the completed step, both before call.ended.
    expect(ended?.payload.event_counts).toEqual({ 'call.lifecycle': 2 });
  });

  it('marks a call complete when every declared row is there', async () => {
    const events = declaredCall();
    await persister.processBatch({ events });
    expect(await complete(db, events[0]!.call_id)).toBe(true);
  });

  it('marks a call incomplete while an event is missing, and complete once it arrives late', async () => {
    const events = declaredCall();
    const callId = events[0]!.call_id;
    const late = events.filter((e) => e.type === 'turn');
    await persister.processBatch({ events: events.filter((e) => e.type !== 'turn') });
    expect(await complete(db, callId)).toBe(false);
    expect(await countIncomplete(db.pool)).toBeGreaterThanOrEqual(1);

    const env = { ...process.env, DATABASE_URL: db.url, REDIS_URL };
    const run = () =>
      promisify(execFile)(process.execPath, [CLI, 'reconcile', '--json'], { env }).then(
        (r) => ({ code: 0, stdout: r.stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
      );
    const before = await run();
    expect(before.code).toBe(1);
    const listed = JSON.parse(before.stdout) as { incomplete: { callId: string; missing: object }[] };
    expect(listed.incomplete.find((c) => c.callId === callId)?.missing).toEqual({
      turn: { declared: 1, observed: 0 },
    });

    await persister.processBatch({ events: late });
    expect(await complete(db, callId)).toBe(true);
    const after = await run();
    expect(after.code).toBe(0);
    expect(after.stdout).not.toContain(callId);
  });

  it('rejects a bad --since with a clear error', async () => {
    const env = { ...process.env, DATABASE_URL: db.url };
    const failed = await promisify(execFile)(process.execPath, [CLI, 'reconcile', '--since', 'yesterday'], {
      env,
    }).catch((e: { code: number; stderr: string }) => e);
    expect((failed as { code: number }).code).not.toBe(0);
    expect((failed as { stderr: string }).stderr).toMatch(/--since must be an ISO time/);
  });
});
