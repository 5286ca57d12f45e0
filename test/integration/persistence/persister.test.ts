import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CallEvent, makeEvent } from '../../../src/events/index.js';
import { EventProducer } from '../../../src/events/producer.js';
import type { Persister } from '../../../src/persistence/persister.js';
import {
  appointmentEventOf,
  countRows,
  persisterSuite,
  pii,
  REDIS_URL,
  sampleCall,
  type TestDatabase,
  waitFor,
  waitForCalls,
} from './helpers.js';

const ONE_OF_EACH = {
  conversations: 1,
  conversation_turns: 1,
  state_transitions: 1,
  extracted_slots: 1,
  system_metrics: 1,
  error_logs: 1,
  appointments: 1,
  user_feedback: 1,
  call_events: 1,
};

describe('persister', () => {
  const suite = persisterSuite('test-events', { concurrency: 2 });
  const { queueName } = suite;
  let db: TestDatabase;
  let persister: Persister;
  beforeAll(() => ({ db, persister } = suite));

  it('writes every event type into its table', async () => {
    const callId = randomUUID();
    const events = sampleCall(callId);
    const result = await persister.processBatch({ events });
    expect(result).toEqual({ written: events.length, deadLettered: 0 });
    expect(await countRows(db.pool, [callId])).toEqual(ONE_OF_EACH);

    const conv = (await db.pool.query('SELECT * FROM conversations WHERE id = $1', [callId])).rows[0];
    expect(conv).toMatchObject({
      session_id: `sess-${callId}`,
      status: 'COMPLETED',
      direction: 'inbound',
      flow: 'appointment-booking',
      sip_call_id: `sip-${callId}`,
      trunk_number: '+15550100000',
      final_state: 'terminal',
      duration_seconds: 5,
      organization_id: '00000000-0000-0000-0000-000000000001',
    });
    // The caller number is never stored in clear: ciphertext decrypts, hash matches lookups.
    expect(JSON.stringify(conv)).not.toContain('0102000');
    expect(pii.decrypt(conv.caller_number_encrypted)).toBe('+1 (555) 010-2000');
    expect(conv.caller_number_hash.equals(pii.hash('sip:+15550102000@trunk'))).toBe(true);

    const turn = events.find((e) => e.type === 'turn')!;
    const row = (await db.pool.query('SELECT * FROM conversation_turns WHERE conversation_id = $1', [callId]))
      .rows[0];
    expect(row).toMatchObject({
      id: turn.payload.turn_id,
      turn_number: 1,
      role: 'user',
      state_at_turn: 'greeting',
    });
    expect(row.created_at.toISOString()).toBe(turn.occurred_at);
    const metric = (await db.pool.query('SELECT * FROM system_metrics WHERE conversation_id = $1', [callId]))
      .rows[0];
    expect(metric).toMatchObject({
      metric_name: 'voice_to_voice_ms',
      metric_value: '812.500',
      tags: { turn: 1 },
    });
    const slot = (await db.pool.query('SELECT * FROM extracted_slots WHERE conversation_id = $1', [callId]))
      .rows[0];
    expect(slot).toMatchObject({
      slot_name: 'date',
      confidence_score: '0.92',
      extraction_method: 'regex',
      validated: true,
    });
    const lifecycle = (await db.pool.query('SELECT * FROM call_events WHERE conversation_id = $1', [callId]))
      .rows[0];
    expect(lifecycle).toMatchObject({ event_type: 'answered', source: 'telephony' });
  });

  it('inserts each event once however often it is delivered', async () => {
    const callId = randomUUID();
    const events = sampleCall(callId);
    await persister.processBatch({ events });
    await persister.processBatch({ events });
    // Same events again, shuffled and split across batches, plus duplicates inside one batch.
    await persister.processBatch({ events: [...events].reverse().slice(0, 5) });
    await persister.processBatch({ events: [...events.slice(3), ...events.slice(3)] });
    expect(await countRows(db.pool, [callId])).toEqual(ONE_OF_EACH);
  });

  it('accepts events that arrive before call.started and fills the placeholder later', async () => {
    const callId = randomUUID();
    const [started, ...rest] = sampleCall(callId);
    const ended = rest.pop()!;
    await persister.processBatch({ events: [rest[1]!] }); // a turn, nothing else yet
    let conv = (await db.pool.query('SELECT * FROM conversations WHERE id = $1', [callId])).rows[0];
    expect(conv).toMatchObject({
      status: 'ACTIVE',
      session_id: callId,
      room_name: '',
      started_event_id: null,
    });

    await persister.processBatch({ events: [ended] }); // ended before started, too
    await persister.processBatch({ events: [started!, ...rest] });
    conv = (await db.pool.query('SELECT * FROM conversations WHERE id = $1', [callId])).rows[0];
    expect(conv).toMatchObject({
      status: 'COMPLETED',
      session_id: `sess-${callId}`,
      room_name: `call-${callId.slice(0, 8)}`,
      started_event_id: started!.id,
      ended_event_id: ended.id,
    });
    expect(conv.started_at.toISOString()).toBe(started!.occurred_at);
    expect(await countRows(db.pool, [callId])).toEqual(ONE_OF_EACH);
  });

  it('finalizes a call exactly once', async () => {
    const callId = randomUUID();
    const events = sampleCall(callId);
    await persister.processBatch({ events });
    const late = makeEvent('call.ended', callId, {
      status: 'FAILED',
      reason: 'late duplicate',
      ended_at: new Date().toISOString(),
    });
    await persister.processBatch({ events: [late] });
    const conv = (
      await db.pool.query('SELECT status, end_reason, ended_event_id FROM conversations WHERE id = $1', [
        callId,
      ])
    ).rows[0];
    expect(conv).toEqual({ status: 'COMPLETED', end_reason: null, ended_event_id: events.at(-1)!.id });
  });

  it('dead-letters malformed events with a reason and writes the rest of the batch', async () => {
    const callId = randomUUID();
    const events: unknown[] = sampleCall(callId);
    const badTurn = makeEvent('turn', callId, {
      turn_id: randomUUID(),
      turn_number: 2,
      role: 'user',
      text: 'x',
    }) as { payload: Record<string, unknown> };
    badTurn.payload.role = 'robot';
    events.splice(3, 0, badTurn, { type: 'nonsense', id: randomUUID() }, 'not even an object');

    const result = await persister.processBatch({ events }, 'job-1');
    expect(result).toEqual({ written: 10, deadLettered: 3 });
    expect(await countRows(db.pool, [callId])).toEqual(ONE_OF_EACH);

    const letters = await persister.dlq.list();
    const reasons = letters.map((l) => l.reason).join('\n');
    expect(reasons).toMatch(/invalid turn event: payload\.role/);
    expect(reasons).toMatch(/unknown event type "nonsense"/);
    expect(reasons).toMatch(/event must be an object, got string/);
    expect(letters.every((l) => l.sourceJobId === 'job-1')).toBe(true);
  });

  it('dead-letters a double booking (the unique slot index) without blocking the batch', async () => {
    const a = sampleCall();
    const b = sampleCall();
    const apptA = appointmentEventOf(a);
    const apptB = appointmentEventOf(b);
    apptB.payload.data.appointment_date = apptA.payload.data.appointment_date;
    apptB.payload.data.appointment_time = apptA.payload.data.appointment_time;
    const before = (await persister.dlq.list(1000)).length;
    const result = await persister.processBatch({ events: [...a, ...b] });
    expect(result.deadLettered).toBe(1);
    const letters = await persister.dlq.list(1000);
    expect(letters.length).toBe(before + 1);
    expect(letters.find((l) => (l.event as CallEvent).id === apptB.id)?.reason).toMatch(
      /appointments_no_double_booking/,
    );
    const rows = await countRows(db.pool, [b[0]!.call_id]);
    expect(rows).toEqual({ ...ONE_OF_EACH, appointments: 0 });
  });

  it('applies later appointment events, ignores stale ones, and never overrides the booking store', async () => {
    const call = sampleCall();
    const started = call[0];
    const booked = appointmentEventOf(call);
    const at = Date.parse(booked.occurred_at);
    const withStatus = (status: 'cancelled' | 'completed', offsetMs: number) =>
      makeEvent(
        'record',
        booked.call_id,
        { ...booked.payload, data: { ...booked.payload.data, status } },
        { occurredAt: new Date(at + offsetMs) },
      );
    await persister.processBatch({ events: [started!, booked] });
    await persister.processBatch({ events: [withStatus('cancelled', 1000)] });
    await persister.processBatch({ events: [withStatus('completed', -1000)] }); // stale: older
    const status = async (id: string) =>
      (await db.pool.query('SELECT status FROM appointments WHERE id = $1', [id])).rows[0]?.status;
    expect(await status(booked.payload.record_id)).toBe('cancelled');

    // A row the booking store wrote itself (no event_updated_at) is authoritative.
    const direct = randomUUID();
    await db.pool.query(
      `INSERT INTO appointments (id, conversation_id, appointment_date, appointment_time, status, confirmation_code)
       VALUES ($1, $2, '2099-12-31', '23:59', 'confirmed', $3)`,
      [direct, booked.call_id, `D-${direct}`],
    );
    await persister.processBatch({
      events: [
        makeEvent('record', booked.call_id, {
          ...booked.payload,
          record_id: direct,
          data: {
            ...booked.payload.data,
            appointment_date: '2099-12-31',
            appointment_time: '23:59',
            confirmation_code: `D-${direct}`,
            status: 'cancelled',
          },
        }),
      ],
    });
    expect(await status(direct)).toBe('confirmed');
  });

  it('dead-letters a record no flow declares, or data its schema refuses, and writes the rest', async () => {
    const call = sampleCall();
    const callId = call[0]!.call_id;
    const unknown = makeEvent('record', callId, {
      record_id: randomUUID(),
      flow: 'appointment-booking',
      type: 'no_such_record',
      data: {},
    });
    const invalid = makeEvent('record', callId, {
      ...appointmentEventOf(call).payload,
      record_id: randomUUID(),
      data: { ...appointmentEventOf(call).payload.data, appointment_time: '25:99' },
    });
    const result = await persister.processBatch({ events: [...call, unknown, invalid] });
    expect(result.deadLettered).toBe(2);
    const letters = await persister.dlq.list(1000);
    const reason = (id: string) => letters.find((l) => (l.event as CallEvent).id === id)?.reason;
    expect(reason(unknown.id)).toMatch(
      /no writer for record type "no_such_record" of flow "appointment-booking"/,
    );
    expect(reason(invalid.id)).toMatch(/invalid appointment-booking appointment record: appointment_time/);
    expect(await countRows(db.pool, [callId])).toEqual(ONE_OF_EACH);
  });

  it('replays dead letters once the cause is fixed', async () => {
    const callId = randomUUID();
    const turn = makeEvent('turn', callId, {
      turn_id: randomUUID(),
      turn_number: 1,
      role: 'user',
      text: 'hi',
    });
    const broken = { ...turn, payload: { ...turn.payload, turn_number: 'one' } };
    await persister.processBatch({ events: [broken] });
    const letter = (await persister.dlq.list(1000)).find((l) => (l.event as CallEvent).id === turn.id)!;
    expect(letter.reason).toMatch(/turn_number/);

    // "Fix" the entry in place (what an operator would do after a code fix), then replay it
    // through the real queue with the persister consuming.
    const job = await persister.dlq.queue.getJob(letter.id);
    await job!.updateData({ ...letter, event: turn });
    await persister.start();
    expect(await persister.dlq.replay([letter.id])).toBe(1);
    await waitFor(async () => (await countRows(db.pool, [callId])).conversation_turns === 1, 'replayed turn');
    expect((await persister.dlq.list(1000)).some((l) => l.id === letter.id)).toBe(false);
  });

  it('carries events from producer through Redis to Postgres', async () => {
    await persister.start(); // no-op if the previous test started it
    const producer = new EventProducer({
      redisUrl: REDIS_URL,
      queueName,
      journalDir: `.local/test-journal/${queueName}`,
      batchMs: 20,
      batchMax: 50,
    });
    const calls = Array.from({ length: 20 }, () => randomUUID());
    const events = calls.flatMap((id) => sampleCall(id));
    for (const e of events) producer.emit(e);
    await producer.flush();
    await producer.close();
    await waitForCalls(db.pool, calls);
  });
});
