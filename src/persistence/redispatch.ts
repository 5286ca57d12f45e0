import type pg from 'pg';
import { type CallEvent, DEFAULT_ORGANIZATION_ID } from '../events/index.js';

/**
 * Re-dispatch: the same SIP call handed to the agent again (a worker died, LiveKit retried)
 * starts with a new call id and the same session_id, which is UNIQUE. Instead of refusing its
 * call.started, the persister records the new id as an alias of the existing conversation
 * (call_aliases) and rewrites the call id of that dispatch's events, now and in later batches,
 * so they join the conversation already there. The first call.started stays authoritative.
 */

const FIND_OWNERS = `
SELECT c.id, c.session_id, c.organization_id FROM conversations c
WHERE c.session_id = ANY($1::text[]) AND NOT (c.id = ANY($2::uuid[]))`;

const RECORD_ALIASES = `
INSERT INTO call_aliases (call_id, conversation_id, organization_id)
SELECT r.call_id, r.conversation_id, r.organization_id
FROM jsonb_to_recordset($1::jsonb) AS r(call_id uuid, conversation_id uuid, organization_id uuid)
ON CONFLICT (call_id) DO NOTHING`;

/** Returns the batch with aliased call ids rewritten (the input is not modified). */
export async function joinRedispatchedCalls(
  db: pg.Pool | pg.ClientBase,
  events: CallEvent[],
): Promise<CallEvent[]> {
  if (events.length === 0) return events;
  const started = events.filter((e) => e.type === 'call.started');
  if (started.length > 0) {
    const sessions = started.map((e) => (e.type === 'call.started' ? e.payload.session_id : ''));
    const { rows } = await db.query<{ id: string; session_id: string; organization_id: string }>(
      FIND_OWNERS,
      [sessions, started.map((e) => e.call_id)],
    );
    const owner = new Map(rows.map((r) => [r.session_id, r]));
    const aliases = started.flatMap((e) => {
      const o = e.type === 'call.started' ? owner.get(e.payload.session_id) : undefined;
      return o
        ? [
            {
              call_id: e.call_id,
              conversation_id: o.id,
              organization_id: o.organization_id ?? DEFAULT_ORGANIZATION_ID,
            },
          ]
        : [];
    });
    if (aliases.length > 0) await db.query(RECORD_ALIASES, [JSON.stringify(aliases)]);
  }
  const ids = [...new Set(events.map((e) => e.call_id))];
  const { rows } = await db.query<{ call_id: string; conversation_id: string }>(
    'SELECT call_id, conversation_id FROM call_aliases WHERE call_id = ANY($1::uuid[])',
    [ids],
  );
  if (rows.length === 0) return events;
  const target = new Map(rows.map((r) => [r.call_id, r.conversation_id]));
  return events.map((e) => {
    const to = target.get(e.call_id);
    return to ? ({ ...e, call_id: to } as CallEvent) : e;
  });
}
