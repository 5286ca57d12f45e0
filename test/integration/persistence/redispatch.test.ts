import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CallEvent, makeEvent } from '../../../src/events/index.js';
import type { Persister } from '../../../src/persistence/persister.js';
import { persisterSuite, sampleCall, type TestDatabase } from './helpers.js';

describe('re-dispatched call (same session_id, new call id)', () => {
  let db: TestDatabase;
  let persister: Persister;
  const suite = persisterSuite('test-redispatch');
  beforeAll(() => ({ db, persister } = suite));

  const turn = (callId: string, n: number): CallEvent =>
    makeEvent('turn', callId, { turn_id: randomUUID(), turn_number: n, role: 'user', text: `again ${n}` });

  it('joins the existing conversation instead of dead-lettering its call.started', async () => {
    const first = sampleCall();
    const conversationId = first[0]!.call_id;
    await persister.processBatch({ events: first.filter((e) => e.type !== 'call.ended') });

    const secondId = randomUUID();
    const [started] = sampleCall(secondId);
    if (started?.type !== 'call.started') throw new Error('sample changed');
    started.payload.session_id = `sess-${conversationId}`; // the same SIP session
    const result = await persister.processBatch({ events: [started, turn(secondId, 5)] });
    expect(result).toEqual({ written: 2, deadLettered: 0 });
    // A later batch of the second dispatch joins too.
    await persister.processBatch({ events: [turn(secondId, 6)] });

    const turns = await db.pool.query('SELECT conversation_id FROM conversation_turns WHERE text LIKE $1', [
      'again %',
    ]);
    expect(turns.rows).toEqual([{ conversation_id: conversationId }, { conversation_id: conversationId }]);
    const second = await db.pool.query('SELECT 1 FROM conversations WHERE id = $1', [secondId]);
    expect(second.rowCount).toBe(0);
    expect((await persister.dlq.list(100)).length).toBe(0);
  });
});
