import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryEventSink, parseEvent } from '../../../src/events/index.js';
import { loggedOperation, providerStatus } from '../../../src/worker/provider-log.js';

const context = () => ({ sink: new MemoryEventSink(), callId: randomUUID(), organizationId: randomUUID() });

describe('telephony provider log (every SIP operation the worker makes)', () => {
  it('records a successful operation with the number masked, the response and the provider call id', async () => {
    const log = context();
    const result = await loggedOperation(
      log,
      'initiate',
      { method: 'CreateSIPParticipant', sip_call_to: '+46701234567', room_name: 'call-out-1' },
      async () => ({ sipCallId: 'SCL_abc', participantId: 'PA_1' }),
      (info) => ({ providerCallId: info.sipCallId, response: { participant_id: info.participantId } }),
    );
    expect(result.sipCallId).toBe('SCL_abc');
    const [event] = log.sink.ofType('telephony');
    expect(parseEvent(JSON.parse(JSON.stringify(event))).ok).toBe(true);
    expect(event!.organization_id).toBe(log.organizationId);
    expect(event!.payload).toMatchObject({
      provider: 'livekit-sip',
      operation: 'initiate',
      provider_call_id: 'SCL_abc',
      status_code: 200,
      success: true,
      response: { participant_id: 'PA_1' },
    });
    expect(JSON.stringify(event)).not.toContain('701234567');
    expect(String(event!.payload.request.sip_call_to)).toMatch(/67$/);
  });

  it('records a failure with its status, SIP status and message, and rethrows it', async () => {
    const log = context();
    const busy = Object.assign(new Error('call to +46701234567 failed: busy'), {
      status: 503,
      sipStatusCode: 486,
      sipStatus: 'Busy Here',
    });
    await expect(
      loggedOperation(log, 'initiate', { sip_call_to: '+46701234567' }, async () => {
        throw busy;
      }),
    ).rejects.toBe(busy);
    const [event] = log.sink.ofType('telephony');
    expect(event!.payload).toMatchObject({
      success: false,
      status_code: 503,
      response: { sip_status_code: 486, sip_status: 'Busy Here' },
    });
    expect(event!.payload.error_message).toMatch(/failed: busy/);
    expect(event!.payload.error_message).not.toContain('701234567');
  });

  it('maps errors without an HTTP status: timeouts to 504, anything else to 502', () => {
    expect(providerStatus(new Error('request timed out'))).toBe(504);
    expect(providerStatus(new Error('ECONNREFUSED'))).toBe(502);
    expect(providerStatus({ status: 404, message: 'room not found' })).toBe(404);
  });

  it('refuses a failed operation without its error message (the seed requires one)', () => {
    const log = context();
    const event = {
      id: randomUUID(),
      type: 'telephony',
      call_id: log.callId,
      occurred_at: new Date().toISOString(),
      payload: {
        log_id: randomUUID(),
        provider: 'livekit-sip',
        operation: 'hangup',
        request: {},
        status_code: 500,
        latency_ms: 3,
        success: false,
      },
    };
    const parsed = parseEvent(event);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(/error_message/);
  });
});
