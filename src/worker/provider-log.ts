import { randomUUID } from 'node:crypto';
import { type EventSink, makeEvent } from '../events/index.js';
import { maskPhoneNumbers } from '../persistence/personal-data.js';

/** The operations telephony_provider_logs knows (migrations/040_telephony_provider_logs.sql). */
export type TelephonyOperation = 'initiate' | 'transfer' | 'hangup';

export interface ProviderLogContext {
  sink: EventSink;
  callId: string;
  organizationId?: string;
}

/** Who answers the worker's telephony requests: LiveKit's SIP service (livekit-sip). */
export const TELEPHONY_PROVIDER = 'livekit-sip';

type Json = Record<string, unknown>;

/** A request or response fit for the log: phone numbers masked, nothing else of the caller's. */
export function maskedPayload(payload: Json): Json {
  return JSON.parse(
    JSON.stringify(payload, (_key, value) => (typeof value === 'string' ? maskPhoneNumbers(value) : value)),
  ) as Json;
}

/**
 * The HTTP status a provider error stands for: the Twirp error's own (livekit-server-sdk sets
 * `status`), else 504 for a timeout and 502 for anything that never got an answer.
 */
export function providerStatus(err: unknown): number {
  const status = (err as { status?: unknown })?.status;
  if (typeof status === 'number' && status >= 100 && status <= 599) return status;
  return /timed? ?out|timeout/i.test(String((err as Error)?.message ?? err)) ? 504 : 502;
}

/** What a failed operation's log keeps of the error: the message and SIP status, masked. */
function errorResponse(err: unknown): Json {
  const e = err as { sipStatusCode?: number; sipStatus?: string; code?: string };
  return maskedPayload({
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    ...(typeof e?.sipStatusCode === 'number' ? { sip_status_code: e.sipStatusCode } : {}),
    ...(typeof e?.sipStatus === 'string' ? { sip_status: e.sipStatus } : {}),
  });
}

/**
 * Runs one provider operation and records it (a `telephony` event): the masked request, the
 * response `describe` picks from the result, status, latency, and the error when it failed.
 * The operation's own result or error is returned unchanged; recording never fails the call.
 */
export async function loggedOperation<T>(
  log: ProviderLogContext,
  operation: TelephonyOperation,
  request: Json,
  run: () => Promise<T>,
  describe: (result: T) => { response?: Json; providerCallId?: string } = () => ({}),
): Promise<T> {
  const started = performance.now();
  const emit = (outcome: Json) => {
    try {
      log.sink.emit(
        makeEvent(
          'telephony',
          log.callId,
          {
            log_id: randomUUID(),
            provider: TELEPHONY_PROVIDER,
            operation,
            request: maskedPayload(request),
            latency_ms: Math.max(0, Math.round(performance.now() - started)),
            ...outcome,
          } as never,
          log.organizationId ? { organizationId: log.organizationId } : {},
        ),
      );
    } catch {
      // the log must never break the call
    }
  };
  try {
    const result = await run();
    const { response, providerCallId } = describe(result);
    emit({
      status_code: 200,
      success: true,
      ...(response ? { response: maskedPayload(response) } : {}),
      ...(providerCallId ? { provider_call_id: providerCallId } : {}),
    });
    return result;
  } catch (err) {
    emit({
      status_code: providerStatus(err),
      success: false,
      response: errorResponse(err),
      error_message:
        maskPhoneNumbers(String((err as Error)?.message ?? err)).slice(0, 2000) || 'unknown error',
    });
    throw err;
  }
}
