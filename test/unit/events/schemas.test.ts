import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CALL_EVENT_TYPES,
  type CallEvent,
  DEFAULT_ORGANIZATION_ID,
  MemoryEventSink,
  makeEvent,
  organizationOf,
  parseEvent,
} from '../../../src/events/index.js';

const callId = randomUUID();

/** One valid event of every type. */
function oneOfEach(): CallEvent[] {
  return [
    makeEvent('call.started', callId, {
      room_name: 'room-1',
      session_id: 'sess-1',
      flow: 'appointment-booking',
      worker_id: 'w1',
      direction: 'inbound',
      sip: { call_id: 'abc@host', caller_number: '+15550102000', trunk_number: '+15550100000' },
    }),
    makeEvent('call.ended', callId, {
      status: 'COMPLETED',
      ended_at: new Date().toISOString(),
      duration_seconds: 42,
    }),
    makeEvent('turn', callId, { turn_id: randomUUID(), turn_number: 0, role: 'agent', text: 'Hello!' }),
    makeEvent('transition', callId, {
      transition_id: randomUUID(),
      from_state: null,
      to_state: 'greeting',
      trigger_type: 'start',
    }),
    makeEvent('slot', callId, {
      slot_id: randomUUID(),
      slot_name: 'name',
      slot_value: 'Ada',
      confidence: 1,
      method: 'llm',
      validated: false,
    }),
    makeEvent('metric', callId, { name: 'stt_latency_ms', value: 120.25, tags: { provider: 'local' } }),
    makeEvent('error', callId, {
      error_id: randomUUID(),
      error_type: 'llm_error',
      message: 'boom',
      severity: 'high',
    }),
    makeEvent('record', callId, {
      record_id: randomUUID(),
      flow: 'example-flow',
      type: 'rating',
      data: { rating: 4 },
    }),
    makeEvent('call.lifecycle', callId, { event_type: 'transferred', data: { to: 'sip:desk' } }),
    makeEvent('call.heartbeat', callId, {}),
    makeEvent('telephony', callId, {
      log_id: randomUUID(),
      provider: 'livekit-sip',
      operation: 'initiate',
      provider_call_id: 'SCL_x',
      request: { method: 'CreateSIPParticipant', sip_call_to: '+*********67' },
      response: { participant_id: 'PA_1' },
      status_code: 200,
      latency_ms: 812,
      success: true,
    }),
  ];
}

describe('event model', () => {
  it('covers every event type, and each survives JSON and parseEvent unchanged', () => {
    const events = oneOfEach();
    expect(events.map((e) => e.type).sort()).toEqual([...CALL_EVENT_TYPES].sort());
    for (const e of events) {
      const result = parseEvent(JSON.parse(JSON.stringify(e)));
      expect(result).toEqual({ ok: true, event: e });
    }
  });

  it('makeEvent fills id, timestamp and optional organization', () => {
    const e = makeEvent(
      'record',
      callId,
      { record_id: randomUUID(), flow: 'example-flow', type: 'rating', data: { rating: 5 } },
      { organizationId: randomUUID() },
    );
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(e.occurred_at)).toBeLessThanOrEqual(Date.now());
    expect(organizationOf(e)).toBe(e.organization_id);
    const plain = makeEvent('record', callId, {
      record_id: randomUUID(),
      flow: 'example-flow',
      type: 'rating',
      data: { rating: 5 },
    });
    expect('organization_id' in plain).toBe(false);
    expect(organizationOf(plain)).toBe(DEFAULT_ORGANIZATION_ID);
    const fixed = makeEvent(
      'record',
      callId,
      { record_id: randomUUID(), flow: 'example-flow', type: 'rating', data: { rating: 5 } },
      {
        id: '11111111-1111-4111-8111-111111111111',
        occurredAt: new Date(0),
      },
    );
    expect(fixed).toMatchObject({
      id: '11111111-1111-4111-8111-111111111111',
      occurred_at: '1970-01-01T00:00:00.000Z',
    });
  });

  it.each([
    [null, /must be an object, got null/],
    [[1], /must be an object, got object/],
    [{ type: 'turn.v2' }, /unknown event type "turn.v2"/],
    [{ id: 'x' }, /unknown event type undefined/],
  ])('rejects %j with a clear reason', (input, reason) => {
    const result = parseEvent(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('names the offending field', () => {
    const [started, , turn, , slot, , , record] = oneOfEach();
    const cases: [unknown, RegExp][] = [
      [{ ...turn!, id: 'not-a-uuid' }, /invalid turn event: id:/],
      [{ ...turn!, occurred_at: 'yesterday' }, /occurred_at/],
      [{ ...slot!, payload: { ...slot!.payload, confidence: 1.5 } }, /payload\.confidence/],
      [{ ...record!, payload: { ...record!.payload, record_id: 'r-1' } }, /payload\.record_id/],
      [{ ...record!, payload: { ...record!.payload, type: '' } }, /payload\.type/],
      [{ ...record!, payload: { ...record!.payload, data: 'rating 4' } }, /payload\.data/],
      [{ ...started!, payload: { ...started!.payload, direction: 'sideways' } }, /payload\.direction/],
      // Unknown payload keys are refused rather than silently dropped.
      [{ ...turn!, payload: { ...turn!.payload, sentiment: 0.3 } }, /payload: Unrecognized key.*sentiment/],
    ];
    for (const [input, reason] of cases) {
      const result = parseEvent(input);
      expect(result.ok, JSON.stringify(input)).toBe(false);
      if (!result.ok) expect(result.reason).toMatch(reason);
    }
  });

  it('round-trips arbitrary turn text and metric values', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.integer({ min: 0, max: 10_000 }),
        fc.double({ min: -1e9, max: 1e9, noNaN: true }),
        (text, n, value) => {
          const turn = makeEvent('turn', callId, {
            turn_id: randomUUID(),
            turn_number: n,
            role: 'user',
            text,
          });
          const metric = makeEvent('metric', callId, { name: 'm', value });
          for (const e of [turn, metric]) {
            const parsed = parseEvent(JSON.parse(JSON.stringify(e)));
            expect(parsed.ok && parsed.event).toEqual(JSON.parse(JSON.stringify(e)));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('MemoryEventSink collects events by type', async () => {
    const sink = new MemoryEventSink();
    for (const e of oneOfEach()) sink.emit(e);
    await sink.flush();
    expect(sink.events).toHaveLength(CALL_EVENT_TYPES.length);
    expect(sink.ofType('turn')[0]?.payload.text).toBe('Hello!');
  });
});
