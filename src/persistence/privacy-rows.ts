import type pg from 'pg';
import type { FlowPersonalTable } from '../conversation/flow-package.js';
import { quoteIdent } from './db.js';
import { normalizePhoneNumber, type PiiKeyRing } from './pii.js';

/**
 * Finding every database row about one person (GDPR Art. 15/17): calls from their number by
 * its keyed hash (live and archived), slots elsewhere that hold the number itself (a callback
 * number given on another call), and the rows of every flow table that declares personal
 * data (FlowPackage.personalData): of their calls, holding their sealed number, or keyed by
 * its hash. Sealed values are opened and compared as normalized numbers.
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
  /** slots on other calls whose value is their number. */
  slotIds: string[];
  /** Per declared flow table: ids of the person's rows. */
  flowRows: Map<FlowPersonalTable, string[]>;
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
  table: string,
  column: string,
): Promise<string[]> {
  const wanted = normalizePhoneNumber(q.phone);
  const found: string[] = [];
  let last = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const r = await db.query<{ id: string; v: string }>(
      `SELECT id, ${quoteIdent(column)} AS v FROM ${quoteIdent(table)}
        WHERE ${quoteIdent(column)} IS NOT NULL AND ${ORG} AND id > $1 ORDER BY id LIMIT 1000`,
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

/** The person's rows in one declared flow table. */
async function flowTableIds(
  db: pg.ClientBase,
  ring: PiiKeyRing,
  q: PersonQuery,
  table: FlowPersonalTable,
  found: { callIds: string[]; phoneHash: Buffer },
): Promise<string[]> {
  const ids = new Set<string>();
  const name = quoteIdent(table.table);
  if (table.conversationColumn) {
    const r = await db.query<{ id: string }>(
      `SELECT id FROM ${name} WHERE ${quoteIdent(table.conversationColumn)} = ANY($1::uuid[])`,
      [found.callIds],
    );
    for (const row of r.rows) ids.add(row.id);
  }
  if (table.hashColumn) {
    const r = await db.query<{ id: string }>(
      `SELECT id FROM ${name} WHERE ${quoteIdent(table.hashColumn)} = $1 AND ${ORG}`,
      [found.phoneHash, q.organizationId ?? null],
    );
    for (const row of r.rows) ids.add(row.id);
  }
  if (table.contactColumn) {
    for (const id of await idsHoldingNumber(db, ring, q, table.table, table.contactColumn)) ids.add(id);
  }
  return [...ids];
}

export async function findPersonRows(
  db: pg.ClientBase,
  ring: PiiKeyRing,
  q: PersonQuery,
  flowTables: readonly FlowPersonalTable[] = [],
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
  const flowRows = new Map<FlowPersonalTable, string[]>();
  for (const table of flowTables) {
    // A flow whose migrations this database never ran holds nothing here.
    const exists = await db.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [
      table.table,
    ]);
    if (!exists.rows[0]?.found) continue;
    flowRows.set(table, await flowTableIds(db, ring, q, table, { callIds, phoneHash }));
  }
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
    slotIds,
    flowRows,
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
