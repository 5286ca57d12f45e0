import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  MemoryEventSink,
  parseEvent,
  startCallHeartbeat,
} from '../../../src/events/index.js';

describe('startCallHeartbeat', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('emits one valid call.heartbeat per interval until stopped', () => {
    const sink = new MemoryEventSink();
    const callId = randomUUID();
    const organizationId = randomUUID();
    const stop = startCallHeartbeat(sink, { callId, organizationId }, 1000);
    expect(sink.events).toHaveLength(0); // call.started already counts as the first beat
    vi.advanceTimersByTime(3500);
    const beats = sink.ofType('call.heartbeat');
    expect(beats).toHaveLength(3);
    for (const b of beats) {
      expect(b).toMatchObject({ call_id: callId, organization_id: organizationId, payload: {} });
      expect(parseEvent(JSON.parse(JSON.stringify(b)))).toEqual({ ok: true, event: b });
    }
    expect(new Set(beats.map((b) => b.id)).size).toBe(3);
    stop();
    stop(); // idempotent
    vi.advanceTimersByTime(10_000);
    expect(sink.events).toHaveLength(3);
  });

  it('defaults to a 5 s interval and leaves out an absent organization', () => {
    const sink = new MemoryEventSink();
    const stop = startCallHeartbeat(sink, { callId: randomUUID() });
    vi.advanceTimersByTime(DEFAULT_HEARTBEAT_INTERVAL_MS - 1);
    expect(sink.events).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(sink.events).toHaveLength(1);
    expect('organization_id' in sink.events[0]!).toBe(false);
    stop();
  });

  it('survives a sink that throws, and refuses a nonsensical interval', () => {
    const stop = startCallHeartbeat(
      {
        emit: () => {
          throw new Error('boom');
        },
        flush: async () => {},
      },
      { callId: randomUUID() },
      100,
    );
    expect(() => vi.advanceTimersByTime(500)).not.toThrow();
    stop();
    for (const bad of [0, -5, Number.NaN])
      expect(() => startCallHeartbeat(new MemoryEventSink(), { callId: randomUUID() }, bad)).toThrow(
        RangeError,
      );
  });

  it('heartbeat payloads are strict: extra keys are refused', () => {
    const result = parseEvent({
      id: randomUUID(),
      type: 'call.heartbeat',
      occurred_at: new Date().toISOString(),
      call_id: randomUUID(),
      payload: { cpu: 0.5 },
    });
    expect(result.ok).toBe(false);
  });
});
