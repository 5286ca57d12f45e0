import type pg from 'pg';
import { normalizePhoneNumber, type PiiKeyRing } from './pii.js';

/**
 * Finding every database row about one person (GDPR Art. 15/17): calls from their number by
 * its keyed hash (live and archived), and rows elsewhere that hold the number itself (a
 * callback number given on another call, a booking's contact field), found by opening the
 * sealed values of the organization and comparing normalized numbers.
 */

export interface PersonQuery {
  phone: string;
  /** Limit to one organization; all organizations when absent. */
  organizationId?: string | undefined;
}

export interface PersonRows {
  phoneHash: Buffer;
  callIds: string[];
  archivedIds: string[];
  /** appointments of their calls or with their number as contact. */
  appointmentIds: string[];
  /** slots on other calls whose value is their number. */
  slotIds: string[];
}

const ORG = '($2::uuid IS NULL OR organization_id = $2::uuid)';

function openOrNull(ring: PiiKeyRing, value: string): string | null {
  try {
    return ring.openText(value);
  } catch {
    return null;
  }
}

/** Ids of rows in `table` whose sealed `column` opens to the same number (keyset batches). */
async function idsHoldingNumber(
  db: pg.ClientBase,
  ring: PiiKeyRing,
  q: PersonQuery,
  table: 'appointments' | 'extracted_slots',
  column: string,
): Promise<string[]> {
  const wanted = normalizePhoneNumber(q.phone);
  const found: string[] = [];
  let last = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const r = await db.query<{ id: string; v: string }>(
      `SELECT id, ${column} AS v FROM ${table} WHERE ${column} IS NOT NULL AND ${ORG} AND id > $1
       ORDER BY id LIMIT 1000`,
      [last, q.organizationId ?? null],
    );
    if (r.rows.length === 0) return found;
    last = r.rows[r.rows.length - 1]!.id;
    for (const row of r.rows) {
      const plain = openOrNull(ring, row.v);
      if (plain && /\d{5,}/.test(plain.replace(/\D/g, '')) && normalizePhoneNumber(plain) === wanted) {
        found.push(row.id);
      }
    }
  }
}

export async function findPersonRows(
  db: pg.ClientBase,
  ring: PiiKeyRing,
  q: PersonQuery,
): Promise<PersonRows> {
  const phoneHash = ring.hash(q.phone);
  const org = q.organizationId ?? null;
  const calls = await db.query<{ id: string }>(
    `SELECT id FROM conversations WHERE caller_number_hash = $1 AND ${ORG} ORDER BY started_at`,
    [phoneHash, org],
  );
  const archived = await db.query<{ id: string }>(
    `SELECT id FROM conversations_archive WHERE caller_number_hash = $1 AND ${ORG} ORDER BY started_at`,
    [phoneHash, org],
  );
  const callIds = calls.rows.map((r) => r.id);
  const ofCalls = await db.query<{ id: string }>(
    'SELECT id FROM appointments WHERE conversation_id = ANY($1::uuid[])',
    [callIds],
  );
  const byContact = await idsHoldingNumber(db, ring, q, 'appointments', 'contact_info');
  const holding = await idsHoldingNumber(db, ring, q, 'extracted_slots', 'slot_value');
  // Slots of their own calls go with those calls; these are the ones on other people's calls.
  const elsewhere = await db.query<{ id: string }>(
    'SELECT id FROM extracted_slots WHERE id = ANY($1::uuid[]) AND conversation_id <> ALL($2::uuid[])',
    [holding, callIds],
  );
  const slotIds = elsewhere.rows.map((r) => r.id);
  return {
    phoneHash,
    callIds,
    archivedIds: archived.rows.map((r) => r.id),
    appointmentIds: [...new Set([...ofCalls.rows.map((r) => r.id), ...byContact])],
    slotIds,
  };
}

/** A JSON value with every sealed string opened (or marked unreadable). */
export function openSealed(ring: PiiKeyRing, value: unknown): unknown {
  if (typeof value === 'string') return openOrNull(ring, value) ?? '[sealed by a key not in the ring]';
  if (Buffer.isBuffer(value)) {
    try {
      return ring.decrypt(value);
    } catch {
      return '[sealed by a key not in the ring]';
    }
  }
  if (Array.isArray(value)) return value.map((v) => openSealed(ring, v));
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, openSealed(ring, v)]));
  }
  return value;
}
