import { z } from 'zod';

/**
 * One zod schema per call event type. Every fact the worker learns about a call becomes one
 * of these events; the persister turns each into exactly one row (the ids below are the row
 * ids, which is what makes redelivery harmless).
 *
 * Payloads are strict objects: an unknown key means producer and persister disagree on the
 * model, and we would rather park that event in the dead-letter queue (replayable after an
 * upgrade) than silently drop the field.
 */

/** Any RFC 4122-shaped id Postgres accepts as `uuid` (not only v4: ids may be derived). */
export const uuid = z.guid();
/** ISO 8601 timestamp with an explicit offset or `Z`, as `Date.prototype.toISOString()` makes. */
export const isoTimestamp = z.iso.datetime({ offset: true });
const json = z.record(z.string(), z.unknown());
/** Text bound for VARCHAR(n) columns: rejected here with a reason rather than by Postgres. */
const short = (max: number) => z.string().max(max);

export const callDirection = z.enum(['inbound', 'outbound', 'simulated']);
export const callStatus = z.enum(['COMPLETED', 'FAILED', 'INTERRUPTED']);

export const callStartedPayload = z.strictObject({
  room_name: short(255),
  session_id: short(255).min(1),
  flow: short(100).min(1),
  worker_id: short(255).min(1),
  direction: callDirection,
  sip: z
    .strictObject({
      call_id: short(255).optional(),
      /** Clear text only in flight; the persister stores it encrypted plus a keyed hash. */
      caller_number: short(64).optional(),
      trunk_number: short(64).optional(),
    })
    .optional(),
  user_id: short(255).optional(),
  metadata: json.optional(),
});

export const callEndedPayload = z.strictObject({
  status: callStatus,
  final_state: short(100).optional(),
  reason: short(255).optional(),
  ended_at: isoTimestamp,
  duration_seconds: z.number().int().nonnegative().optional(),
  /** Events of each type the call emitted before this one (reconciliation, see reconcile.ts). */
  event_counts: z.record(z.string().max(100), z.number().int().nonnegative()).optional(),
});

export const turnPayload = z.strictObject({
  turn_id: uuid,
  turn_number: z.number().int().nonnegative(),
  role: z.enum(['user', 'agent']),
  text: z.string(),
  state_at_turn: short(100).optional(),
  transcribed_text: z.string().optional(),
  llm_response: z.string().optional(),
  audio_url: z.string().optional(),
  metadata: json.optional(),
});

export const transitionPayload = z.strictObject({
  transition_id: uuid,
  from_state: short(100).nullable(),
  to_state: short(100).min(1),
  trigger_type: short(50).min(1),
  trigger_data: json.optional(),
  latency_ms: z.number().int().nonnegative().optional(),
  metadata: json.optional(),
});

export const slotPayload = z.strictObject({
  slot_id: uuid,
  turn_id: uuid.optional(),
  slot_name: short(100).min(1),
  slot_value: z.string(),
  confidence: z.number().min(0).max(1),
  method: short(50).min(1),
  validated: z.boolean(),
  /** The flow marks personal values; the persister seals them (phone-like values always). */
  sensitive: z.boolean().optional(),
});

export const metricPayload = z.strictObject({
  name: short(100).min(1),
  /** Stored as NUMERIC(14,3): latencies in ms, counts, ratios. */
  value: z.number().finite().gt(-1e11).lt(1e11),
  tags: json.optional(),
  /** When the measurement was taken; defaults to the event's occurred_at. */
  time: isoTimestamp.optional(),
});

export const errorPayload = z.strictObject({
  error_id: uuid,
  error_type: short(100).min(1),
  message: z.string(),
  stack: z.string().optional(),
  severity: z.enum(['low', 'medium', 'high', 'critical']),
  context: json.optional(),
});

/**
 * A row for a flow's own table: the flow package declares `type` with a zod schema for `data`
 * and the writer that stores it (see FlowPackage.records). `record_id` is the row's id: the
 * same id again is a later version of the same row.
 */
export const recordPayload = z.strictObject({
  record_id: uuid,
  flow: short(100).min(1),
  type: short(100).min(1),
  data: z.record(z.string(), z.unknown()),
});

/** Call lifecycle steps (seed 003's call_events plus telephony steps this worker has). */
export const lifecycleEventType = z.enum([
  'initiated',
  'connecting',
  'ringing',
  'answered',
  'ai_connected',
  'in_progress',
  'question_asked',
  'response_received',
  'warning_sent',
  'dtmf_received',
  'on_hold',
  'transferred',
  'hangup',
  'timeout',
  'completed',
  'failed',
]);

export const lifecyclePayload = z.strictObject({
  event_type: lifecycleEventType,
  source: z.enum(['system', 'telephony', 'ai', 'customer']).optional(),
  data: json.optional(),
});

/**
 * "This call is still alive": emitted every few seconds by startCallHeartbeat (heartbeat.ts)
 * so a call whose caller is silent still refreshes conversations.last_heartbeat_at. It is its
 * own type rather than a call.lifecycle event because lifecycle events become call_events rows
 * and a heartbeat must write nothing but that one timestamp (the reaper reads it).
 */
export const callHeartbeatPayload = z.strictObject({});

/**
 * One operation asked of the telephony provider (telephony_provider_logs): what was asked and
 * answered with numbers masked and no credentials, the outcome as an HTTP status, how long
 * it took. A failure always says why.
 */
export const telephonyPayload = z
  .strictObject({
    log_id: uuid,
    provider: short(50).min(1),
    operation: z.enum(['initiate', 'connect', 'record', 'transfer', 'hangup', 'webhook']),
    provider_call_id: short(255).optional(),
    request: json,
    response: json.optional(),
    status_code: z.number().int().min(100).max(599),
    latency_ms: z.number().int().nonnegative(),
    success: z.boolean(),
    error_message: z.string().min(1).max(2000).optional(),
  })
  .refine((op) => op.success || op.error_message !== undefined, {
    message: 'a failed operation needs its error_message',
    path: ['error_message'],
  });

/** Event type → payload schema. The single source of truth for the set of types. */
export const payloadSchemas = {
  'call.started': callStartedPayload,
  'call.ended': callEndedPayload,
  turn: turnPayload,
  transition: transitionPayload,
  slot: slotPayload,
  metric: metricPayload,
  error: errorPayload,
  record: recordPayload,
  'call.lifecycle': lifecyclePayload,
  'call.heartbeat': callHeartbeatPayload,
  telephony: telephonyPayload,
} as const;

export type CallEventType = keyof typeof payloadSchemas;
export const CALL_EVENT_TYPES = Object.keys(payloadSchemas) as CallEventType[];
export type PayloadOf<T extends CallEventType> = z.infer<(typeof payloadSchemas)[T]>;

const envelope = <T extends CallEventType>(type: T) =>
  z.strictObject({
    id: uuid,
    type: z.literal(type),
    occurred_at: isoTimestamp,
    call_id: uuid,
    organization_id: uuid.optional(),
    payload: payloadSchemas[type],
  });

export const callEventSchema = z.discriminatedUnion('type', [
  envelope('call.started'),
  envelope('call.ended'),
  envelope('turn'),
  envelope('transition'),
  envelope('slot'),
  envelope('metric'),
  envelope('error'),
  envelope('record'),
  envelope('call.lifecycle'),
  envelope('call.heartbeat'),
  envelope('telephony'),
]);

export type CallEvent = z.infer<typeof callEventSchema>;
export type EventOf<T extends CallEventType> = Extract<CallEvent, { type: T }>;
export type CallStartedEvent = EventOf<'call.started'>;
export type CallEndedEvent = EventOf<'call.ended'>;
export type TurnEvent = EventOf<'turn'>;
export type TransitionEvent = EventOf<'transition'>;
export type SlotEvent = EventOf<'slot'>;
export type MetricEvent = EventOf<'metric'>;
export type ErrorEvent = EventOf<'error'>;
export type RecordEvent = EventOf<'record'>;
export type TelephonyEvent = EventOf<'telephony'>;
export type LifecycleEvent = EventOf<'call.lifecycle'>;
export type HeartbeatEvent = EventOf<'call.heartbeat'>;
