import { makeEvent } from './model.js';
import type { EventSink } from './sink.js';

/**
 * Per-call liveness signal. The persister turns each `call.heartbeat` event into a bump of
 * conversations.last_heartbeat_at (and nothing else); the reaper marks ACTIVE calls whose
 * heartbeat is older than REAPER_STALE_SECONDS as INTERRUPTED. Without it a call whose caller
 * says nothing produces no events and would look exactly like a call whose worker died.
 *
 * Keep REAPER_STALE_SECONDS well above the interval: a heartbeat reaches the database after
 * the producer's batching delay (EVENT_BATCH_MS) plus the persister's lag, so the default
 * 5 s interval against the default 30 s threshold tolerates several lost or late beats.
 */

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 5000;

export interface HeartbeatCall {
  callId: string;
  organizationId?: string;
}

/**
 * Emits a `call.heartbeat` event for the call every `intervalMs` until the returned function
 * is called (idempotent). The first beat comes after one interval: call.started already set
 * the heartbeat. The timer is unref'd so it never keeps a process alive on its own.
 */
export function startCallHeartbeat(
  sink: EventSink,
  call: HeartbeatCall,
  intervalMs: number = DEFAULT_HEARTBEAT_INTERVAL_MS,
): () => void {
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new RangeError(`heartbeat interval must be a positive number of ms, got ${intervalMs}`);
  }
  const options = call.organizationId ? { organizationId: call.organizationId } : {};
  const timer = setInterval(() => {
    try {
      sink.emit(makeEvent('call.heartbeat', call.callId, {}, options));
    } catch {
      // EventSink.emit must not throw; if one does anyway, a missed beat is harmless and
      // an exception escaping a timer would crash the worker with every call on it.
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
