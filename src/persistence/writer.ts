import type pg from 'pg';
import {
  type CallEndedEvent,
  type CallEvent,
  type CallStartedEvent,
  DEFAULT_ORGANIZATION_ID,
  type EventOf,
} from '../events/index.js';
import { protectLifecycleData, protectSlotValue, protectTurn, sealContact } from './personal-data.js';
import type { PiiKeyRing } from './pii.js';
import { noRecordWriters, type RecordWriterLookup, writeRecords } from './record-writers.js';
import { groupByOrganization, setOrganization } from './tenant-scope.js';

/**
 * Writes a batch of validated events inside the caller's transaction: one multi-row statement
 * per event type, rows shipped as a single JSON array and expanded by jsonb_to_recordset.
 * Every row id comes from the event (call_id, turn_id, event id, ...), and every insert is
 * ON CONFLICT DO NOTHING/guarded update, so writing the same batch twice changes nothing.
 */

type Row = Record<string, unknown>;

function ofType<T extends CallEvent['type']>(events: CallEvent[], type: T): EventOf<T>[] {
  return events.filter((e): e is EventOf<T> => e.type === type);
}

/** Keeps one event per key: the earliest (first fact wins) or the latest (last state wins). */
function onePer<E extends CallEvent>(events: E[], key: (e: E) => string, keep: 'earliest' | 'latest'): E[] {
  const chosen = new Map<string, E>();
  for (const e of events) {
    const k = key(e);
    const prev = chosen.get(k);
    const t = Date.parse(e.occurred_at);
    const better =
      prev && (keep === 'latest' ? t > Date.parse(prev.occurred_at) : t < Date.parse(prev.occurred_at));
    if (!prev || better) chosen.set(k, e);
  }
  return [...chosen.values()];
}

const statementNames = new Map<string, string>();

/**
 * Runs one statement with the rows as its single JSON parameter, as a named prepared
 * statement: each connection parses and plans it once instead of on every batch, which for
 * small batches costs about as much as the insert itself.
 */
async function run(client: pg.ClientBase, sql: string, rows: Row[]): Promise<void> {
  if (rows.length === 0) return;
  let name = statementNames.get(sql);
  if (!name) {
    name = `va_write_${statementNames.size + 1}`;
    statementNames.set(sql, name);
  }
  await client.query({ name, text: sql, values: [JSON.stringify(rows)] });
}

// Organization of a child row: the event's own, else its conversation's (placeholders and
// call.started set that one), which keeps children of one call in one tenant.
const ORG = 'COALESCE(r.organization_id, c.organization_id)';
const JOIN_CONV = 'LEFT JOIN conversations c ON c.id = r.call_id';

const UPSERT_STARTED = `
INSERT INTO conversations AS c (id, organization_id, session_id, room_name, user_id, status, direction,
  flow, worker_id, sip_call_id, caller_number_encrypted, caller_number_hash, trunk_number, started_at,
  metadata, last_heartbeat_at, started_event_id)
SELECT r.call_id, r.organization_id, r.session_id, r.room_name, r.user_id, 'ACTIVE', r.direction,
  r.flow, r.worker_id, r.sip_call_id, decode(r.caller_enc, 'hex'), decode(r.caller_hash, 'hex'),
  r.trunk_number, r.occurred_at, r.metadata, r.occurred_at, r.event_id
FROM jsonb_to_recordset($1::jsonb) AS r(call_id uuid, organization_id uuid, session_id text,
  room_name text, user_id text, direction text, flow text, worker_id text, sip_call_id text,
  caller_enc text, caller_hash text, trunk_number text, occurred_at timestamptz, metadata jsonb,
  event_id uuid)
ORDER BY r.call_id
ON CONFLICT (id) DO UPDATE SET
  organization_id = EXCLUDED.organization_id, session_id = EXCLUDED.session_id,
  room_name = EXCLUDED.room_name, user_id = EXCLUDED.user_id, direction = EXCLUDED.direction,
  flow = EXCLUDED.flow, worker_id = EXCLUDED.worker_id, sip_call_id = EXCLUDED.sip_call_id,
  caller_number_encrypted = EXCLUDED.caller_number_encrypted,
  caller_number_hash = EXCLUDED.caller_number_hash, trunk_number = EXCLUDED.trunk_number,
  started_at = EXCLUDED.started_at, metadata = EXCLUDED.metadata,
  last_heartbeat_at = GREATEST(c.last_heartbeat_at, EXCLUDED.last_heartbeat_at),
  started_event_id = EXCLUDED.started_event_id,
  -- The call already ended and its duration was derived from the placeholder's start time:
  -- derive it again from the real one.
  duration_seconds = CASE
    WHEN c.ended_at IS NOT NULL
     AND c.duration_seconds = GREATEST(0, ROUND(EXTRACT(EPOCH FROM c.ended_at - c.started_at)))::int
    THEN GREATEST(0, ROUND(EXTRACT(EPOCH FROM c.ended_at - EXCLUDED.started_at)))::int
    ELSE c.duration_seconds END
WHERE c.started_event_id IS NULL`;

// Any event may arrive before its call.started (another batch, another persister): make sure
// the conversation row exists so foreign keys hold; call.started fills it in later. DO NOTHING
// takes no row lock, unlike DO UPDATE, whose FOR UPDATE lock would block the foreign-key checks
// of every concurrent batch of the same call. The heartbeat is refreshed by a plain UPDATE
// (which does not conflict with those checks), coarsely, so busy calls are not rewritten on
// every batch; it cannot see rows inserted by the CTE, which already carry a fresh heartbeat.
const TOUCH_CONVERSATIONS = `
WITH r AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(call_id uuid, organization_id uuid,
    first_at timestamptz, last_at timestamptz)
), inserted AS (
  INSERT INTO conversations (id, organization_id, session_id, room_name, status, started_at, last_heartbeat_at)
  SELECT r.call_id, r.organization_id, r.call_id::text, '', 'ACTIVE', r.first_at, r.last_at FROM r
  ORDER BY r.call_id
  ON CONFLICT (id) DO NOTHING
  RETURNING id
)
UPDATE conversations c SET last_heartbeat_at = r.last_at
FROM r
WHERE c.id = r.call_id AND c.status = 'ACTIVE'
  AND (c.last_heartbeat_at IS NULL OR c.last_heartbeat_at < r.last_at - INTERVAL '10 seconds')
  AND NOT EXISTS (SELECT 1 FROM inserted i WHERE i.id = r.call_id)`;

// A heartbeat bumps the timestamp of a call still ACTIVE and writes nothing else: no
// placeholder row (a beat proves a worker is alive, not that the call is known) and no bump of
// a call already finalized or reaped. Not coarse like TOUCH_CONVERSATIONS: beats come every
// few seconds at most, and the reaper's threshold may be short. Rows are locked in id order
// (FOR NO KEY UPDATE, which foreign-key checks do not wait for) so concurrent batches bumping
// the same calls cannot deadlock; a row the reaper holds is waited for, then skipped.
const BUMP_HEARTBEATS = `
WITH r AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(call_id uuid, at timestamptz)
), locked AS (
  SELECT c.id, r.at FROM conversations c JOIN r ON r.call_id = c.id
  WHERE c.status = 'ACTIVE' AND (c.last_heartbeat_at IS NULL OR c.last_heartbeat_at < r.at)
  ORDER BY c.id
  FOR NO KEY UPDATE OF c
)
UPDATE conversations c SET last_heartbeat_at = GREATEST(c.last_heartbeat_at, l.at)
FROM locked l
WHERE c.id = l.id`;

const INSERT_TURNS = `
INSERT INTO conversation_turns (id, organization_id, conversation_id, turn_number, role, text, audio_url,
  transcribed_text, llm_response, state_at_turn, metadata, created_at)
SELECT r.id, ${ORG}, r.call_id, r.turn_number, r.role, r.text, r.audio_url, r.transcribed_text,
  r.llm_response, r.state_at_turn, r.metadata, r.occurred_at
FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, organization_id uuid, call_id uuid, turn_number int,
  role text, text text, audio_url text, transcribed_text text, llm_response text, state_at_turn text,
  metadata jsonb, occurred_at timestamptz)
${JOIN_CONV}
ON CONFLICT (id) DO NOTHING`;

const INSERT_TRANSITIONS = `
INSERT INTO state_transitions (id, organization_id, conversation_id, from_state, to_state, trigger_type,
  trigger_data, transition_time, latency_ms, metadata)
SELECT r.id, ${ORG}, r.call_id, r.from_state, r.to_state, r.trigger_type, r.trigger_data, r.occurred_at,
  r.latency_ms, r.metadata
FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, organization_id uuid, call_id uuid, from_state text,
  to_state text, trigger_type text, trigger_data jsonb, occurred_at timestamptz, latency_ms int,
  metadata jsonb)
${JOIN_CONV}
ON CONFLICT (id) DO NOTHING`;

const INSERT_SLOTS = `
INSERT INTO extracted_slots (id, organization_id, conversation_id, turn_id, slot_name, slot_value,
  confidence_score, extraction_method, validated, created_at)
SELECT r.id, ${ORG}, r.call_id, r.turn_id, r.slot_name, r.slot_value, r.confidence, r.method,
  r.validated, r.occurred_at
FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, organization_id uuid, call_id uuid, turn_id uuid,
  slot_name text, slot_value text, confidence numeric, method text, validated boolean,
  occurred_at timestamptz)
${JOIN_CONV}
ON CONFLICT (id) DO NOTHING`;

const INSERT_METRICS = `
INSERT INTO system_metrics (id, time, organization_id, metric_name, metric_value, tags, conversation_id)
SELECT r.id, r.time, ${ORG}, r.name, r.value, r.tags, r.call_id
FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, time timestamptz, organization_id uuid, name text,
  value numeric, tags jsonb, call_id uuid)
${JOIN_CONV}
ON CONFLICT (id, time) DO NOTHING`;

const INSERT_ERRORS = `
INSERT INTO error_logs (id, organization_id, conversation_id, error_type, error_message, stack_trace,
  context, severity, created_at)
SELECT r.id, ${ORG}, r.call_id, r.error_type, r.message, r.stack, r.context, r.severity, r.occurred_at
FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, organization_id uuid, call_id uuid, error_type text,
  message text, stack text, context jsonb, severity text, occurred_at timestamptz)
${JOIN_CONV}
ON CONFLICT (id) DO NOTHING`;

const INSERT_LIFECYCLE = `
INSERT INTO call_events (id, organization_id, conversation_id, event_type, event_data, source, occurred_at)
SELECT r.id, ${ORG}, r.call_id, r.event_type, r.data, r.source, r.occurred_at
FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, organization_id uuid, call_id uuid, event_type text,
  data jsonb, source text, occurred_at timestamptz)
${JOIN_CONV}
ON CONFLICT (id) DO NOTHING`;

const INSERT_TELEPHONY = `
INSERT INTO telephony_provider_logs (id, organization_id, conversation_id, provider, provider_call_id,
  operation, request_payload, response_payload, status_code, latency_ms, success, error_message, occurred_at)
SELECT r.log_id, ${ORG}, r.call_id, r.provider, r.provider_call_id, r.operation, r.request, r.response,
  r.status_code, r.latency_ms, r.success, r.error_message, r.occurred_at
FROM jsonb_to_recordset($1::jsonb) AS r(log_id uuid, organization_id uuid, call_id uuid, provider text,
  provider_call_id text, operation text, request jsonb, response jsonb, status_code int, latency_ms int,
  success boolean, error_message text, occurred_at timestamptz)
${JOIN_CONV}
ON CONFLICT (id) DO NOTHING`;

// Finalized exactly once: a second call.ended (redelivery or a late duplicate) matches no row.
const FINALIZE_CALLS = `
UPDATE conversations c SET
  status = r.status, ended_at = r.ended_at, final_state = r.final_state, end_reason = r.reason,
  duration_seconds = COALESCE(r.duration_seconds,
    GREATEST(0, ROUND(EXTRACT(EPOCH FROM r.ended_at - c.started_at)))::int),
  ended_event_id = r.event_id
FROM jsonb_to_recordset($1::jsonb) AS r(call_id uuid, status text, ended_at timestamptz,
  final_state text, reason text, duration_seconds int, event_id uuid)
WHERE c.id = r.call_id AND c.ended_event_id IS NULL`;

function startedRow(e: CallStartedEvent, pii: PiiKeyRing): Row {
  const p = e.payload;
  const caller = p.sip?.caller_number;
  return {
    call_id: e.call_id,
    organization_id: e.organization_id ?? DEFAULT_ORGANIZATION_ID,
    session_id: p.session_id,
    room_name: p.room_name,
    user_id: p.user_id,
    direction: p.direction,
    flow: p.flow,
    worker_id: p.worker_id,
    sip_call_id: p.sip?.call_id,
    caller_enc: caller ? pii.encrypt(caller).toString('hex') : undefined,
    caller_hash: caller ? pii.hash(caller).toString('hex') : undefined,
    trunk_number: p.sip?.trunk_number,
    occurred_at: e.occurred_at,
    metadata: p.metadata,
    event_id: e.id,
  };
}

function touchRows(events: CallEvent[]): Row[] {
  const calls = new Map<string, { organization_id?: string; first: number; last: number }>();
  for (const e of events) {
    if (e.type === 'call.heartbeat') continue;
    const t = Date.parse(e.occurred_at);
    const c = calls.get(e.call_id);
    if (!c) {
      calls.set(e.call_id, {
        first: t,
        last: t,
        ...(e.organization_id ? { organization_id: e.organization_id } : {}),
      });
    } else {
      c.first = Math.min(c.first, t);
      c.last = Math.max(c.last, t);
      c.organization_id ??= e.organization_id;
    }
  }
  return [...calls].map(([call_id, c]) => ({
    call_id,
    organization_id: c.organization_id ?? DEFAULT_ORGANIZATION_ID,
    first_at: new Date(c.first).toISOString(),
    last_at: new Date(c.last).toISOString(),
  }));
}

/** The latest beat per call. */
function heartbeatRows(events: CallEvent[]): Row[] {
  return onePer(ofType(events, 'call.heartbeat'), (e) => e.call_id, 'latest').map((e) => ({
    call_id: e.call_id,
    at: e.occurred_at,
  }));
}

const base = (e: CallEvent, id: string): Row => ({
  id,
  organization_id: e.organization_id,
  call_id: e.call_id,
  occurred_at: e.occurred_at,
});

/**
 * Writes `events` (already validated) using `client`, which must be inside a transaction: one
 * group per organization, each under `SET LOCAL app.organization_id` for that organization, so
 * row-level security checks every row against its call's organization. The batch stays one
 * transaction (all or nothing, as before).
 */
export async function writeEvents(
  client: pg.ClientBase,
  events: CallEvent[],
  pii: PiiKeyRing,
  records: RecordWriterLookup = noRecordWriters,
): Promise<void> {
  if (events.length === 0) return;
  for (const group of await groupByOrganization(client, events)) {
    await setOrganization(client, group.organizationId);
    await writeOrganizationEvents(client, group.events, pii, records);
  }
}

/** Writes events that all belong to the organization the transaction is scoped to. */
async function writeOrganizationEvents(
  client: pg.ClientBase,
  events: CallEvent[],
  pii: PiiKeyRing,
  records: RecordWriterLookup,
): Promise<void> {
  const started = onePer(ofType(events, 'call.started'), (e) => e.call_id, 'earliest');
  await run(
    client,
    UPSERT_STARTED,
    started.map((e) => startedRow(e, pii)),
  );
  await run(client, TOUCH_CONVERSATIONS, touchRows(events));
  await run(client, BUMP_HEARTBEATS, heartbeatRows(events));

  await run(
    client,
    INSERT_TURNS,
    ofType(events, 'turn').map((e) => ({ ...base(e, e.payload.turn_id), ...protectTurn(e.payload) })),
  );
  await run(
    client,
    INSERT_TRANSITIONS,
    ofType(events, 'transition').map((e) => ({ ...base(e, e.payload.transition_id), ...e.payload })),
  );
  await run(
    client,
    INSERT_SLOTS,
    ofType(events, 'slot').map((e) => ({
      ...base(e, e.payload.slot_id),
      ...e.payload,
      slot_value: protectSlotValue(pii, e.payload.slot_name, e.payload.slot_value, e.payload.sensitive),
    })),
  );
  await run(
    client,
    INSERT_METRICS,
    ofType(events, 'metric').map((e) => ({
      ...base(e, e.id),
      ...e.payload,
      time: e.payload.time ?? e.occurred_at,
    })),
  );
  await run(
    client,
    INSERT_ERRORS,
    ofType(events, 'error').map((e) => ({ ...base(e, e.payload.error_id), ...e.payload })),
  );
  await writeRecords(client, events, records, { seal: (value) => sealContact(pii, value) ?? value });
  await run(
    client,
    INSERT_LIFECYCLE,
    ofType(events, 'call.lifecycle').map((e) => ({
      ...base(e, e.id),
      ...e.payload,
      data: protectLifecycleData(e.payload.event_type, e.payload.data),
    })),
  );

  await run(
    client,
    INSERT_TELEPHONY,
    ofType(events, 'telephony').map((e) => ({ ...base(e, e.payload.log_id), ...e.payload })),
  );

  const ended = onePer<CallEndedEvent>(ofType(events, 'call.ended'), (e) => e.call_id, 'earliest');
  await run(
    client,
    FINALIZE_CALLS,
    ended.map((e) => ({ call_id: e.call_id, event_id: e.id, ...e.payload })),
  );
}
