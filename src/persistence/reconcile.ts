import type pg from 'pg';
import { type CallEndedEvent, type CallEvent, DEFAULT_ORGANIZATION_ID } from '../events/index.js';

/**
 * Reconciliation of what a call emitted against what Postgres holds. call.ended carries
 * `event_counts` (per type, counted in the worker's sink before the call ended); after each
 * commit the persister records those and recounts the rows of every call in the batch, so a
 * call marked incomplete becomes complete as soon as its late events land. Types whose events
 * do not map one to one onto rows (heartbeats, flow records, which a writer may merge into one
 * row) are not compared.
 */

/** Rows per compared type for each call in $1, as one JSON object per call. */
const OBSERVED = `
SELECT c.id AS call_id, jsonb_build_object(
  'call.started', (c.started_event_id IS NOT NULL)::int,
  'turn', (SELECT count(*) FROM conversation_turns t WHERE t.conversation_id = c.id),
  'transition', (SELECT count(*) FROM state_transitions t WHERE t.conversation_id = c.id),
  'slot', (SELECT count(*) FROM extracted_slots t WHERE t.conversation_id = c.id),
  'metric', (SELECT count(*) FROM system_metrics t WHERE t.conversation_id = c.id),
  'error', (SELECT count(*) FROM error_logs t WHERE t.conversation_id = c.id),
  'call.lifecycle', (SELECT count(*) FROM call_events t WHERE t.conversation_id = c.id),
  'telephony', (SELECT count(*) FROM telephony_provider_logs t WHERE t.conversation_id = c.id)
) AS observed
FROM conversations c WHERE c.id = ANY($1::uuid[])`;

const RECORD_DECLARED = `
INSERT INTO call_reconciliation (call_id, organization_id, declared, ended_at)
SELECT r.call_id, c.organization_id, r.declared, r.ended_at
FROM jsonb_to_recordset($1::jsonb) AS r(call_id uuid, organization_id uuid, declared jsonb, ended_at timestamptz)
-- The call's own organization; under row-level security only the scoped organization's calls join.
JOIN conversations c ON c.id = r.call_id
ON CONFLICT (call_id) DO NOTHING`;

const RECHECK = `
WITH o AS (${OBSERVED})
UPDATE call_reconciliation r SET observed = o.observed, checked_at = now(),
  complete = NOT EXISTS (
    SELECT 1 FROM jsonb_each_text(r.declared) d
    WHERE o.observed ? d.key AND (o.observed->>d.key)::int < d.value::int)
FROM o WHERE r.call_id = o.call_id
RETURNING r.call_id, r.complete`;

export interface IncompleteCall {
  callId: string;
  endedAt: string;
  /** Per type: declared by the worker, held in Postgres. Only short types are listed. */
  missing: Record<string, { declared: number; observed: number }>;
}

/** After a commit: records the declarations in `events` and re-checks every call they touch. */
export async function reconcileBatch(db: pg.Pool | pg.ClientBase, events: CallEvent[]): Promise<number> {
  const declared = events
    .filter((e): e is CallEndedEvent => e.type === 'call.ended' && !!e.payload.event_counts)
    .map((e) => ({
      call_id: e.call_id,
      organization_id: e.organization_id ?? DEFAULT_ORGANIZATION_ID,
      declared: e.payload.event_counts,
      ended_at: e.payload.ended_at,
    }));
  if (declared.length > 0) await db.query(RECORD_DECLARED, [JSON.stringify(declared)]);
  const calls = [...new Set(events.map((e) => e.call_id))];
  const { rows } = await db.query<{ complete: boolean }>(RECHECK, [calls]);
  return rows.filter((r) => !r.complete).length;
}

export async function recheckSince(db: pg.Pool | pg.ClientBase, since: Date): Promise<void> {
  const { rows } = await db.query<{ call_id: string }>(
    'SELECT call_id FROM call_reconciliation WHERE NOT complete AND ended_at >= $1',
    [since],
  );
  if (rows.length > 0) await db.query(RECHECK, [rows.map((r) => r.call_id)]);
}

export async function listIncomplete(
  db: pg.Pool | pg.ClientBase,
  since: Date,
  limit = 1000,
): Promise<IncompleteCall[]> {
  const { rows } = await db.query<{
    call_id: string;
    ended_at: Date;
    declared: Record<string, number>;
    observed: Record<string, number>;
  }>(
    `SELECT call_id, ended_at, declared, observed FROM call_reconciliation
     WHERE NOT complete AND ended_at >= $1 ORDER BY ended_at LIMIT $2`,
    [since, limit],
  );
  return rows.map((r) => ({
    callId: r.call_id,
    endedAt: r.ended_at.toISOString(),
    missing: Object.fromEntries(
      Object.entries(r.declared)
        .filter(([type, n]) => type in r.observed && (r.observed[type] ?? 0) < n)
        .map(([type, n]) => [type, { declared: n, observed: r.observed[type] ?? 0 }]),
    ),
  }));
}

export async function countIncomplete(db: pg.Pool | pg.ClientBase): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    'SELECT count(*) AS n FROM call_reconciliation WHERE NOT complete',
  );
  return Number(rows[0]?.n ?? 0);
}
