import type pg from 'pg';
import type { FlowPersonalTable } from '../conversation/flow-package.js';
import { PiiKeyRing } from './pii.js';

/**
 * `voice-agent pii rotate`: re-seals every stored ciphertext under the ring's active key.
 * Rows are read and updated in keyset batches, each batch in its own transaction, so a
 * rotation can be stopped and run again (rows already under the active key are skipped).
 * A ciphertext no key of the ring opens is counted and left as it is: rotation never loses data.
 * Retire an old key (drop it from PII_KEYS) only after a rotation reported 0 left under it.
 */

export type SealedKind = 'bytea' | 'text' | 'jsonb';

export interface SealedColumn {
  table: string;
  column: string;
  /** bytea: binary ciphertext; text: `enc2:` sealed text; jsonb: sealed strings anywhere inside. */
  kind: SealedKind;
}

/**
 * The platform's columns that hold sealed personal data; flows declare theirs
 * (FlowPackage.personalData), which hosts pass to rotatePii.
 */
export const SEALED_COLUMNS: SealedColumn[] = [
  { table: 'conversations', column: 'caller_number_encrypted', kind: 'bytea' },
  { table: 'conversations_archive', column: 'caller_number_encrypted', kind: 'bytea' },
  { table: 'conversations_archive', column: 'details', kind: 'jsonb' },
  { table: 'extracted_slots', column: 'slot_value', kind: 'text' },
];

/** The sealed columns flow tables declare, as rotatePii takes them. */
export function flowSealedColumns(tables: readonly FlowPersonalTable[]): SealedColumn[] {
  return tables.flatMap((t) =>
    (t.sealed ?? []).map((c) => ({ table: t.table, column: c.column, kind: c.kind })),
  );
}

export interface RotationCount {
  table: string;
  column: string;
  rotated: number;
  /** Sealed by a key no longer in the ring, or corrupt: left untouched. */
  unreadable: number;
}

const BATCH = 500;
const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Re-seals one value; undefined when it needs no change. Throws PiiKeyError when unreadable. */
function resealValue(ring: PiiKeyRing, kind: SealedKind, value: unknown): unknown {
  if (kind === 'bytea') {
    const data = value as Buffer;
    return ring.needsRotation(data) ? ring.encrypt(ring.decrypt(data)) : undefined;
  }
  if (kind === 'text') {
    const text = value as string;
    if (!PiiKeyRing.isSealedText(text) || text.startsWith(`enc2:${ring.activeKeyId}:`)) return undefined;
    return ring.sealText(ring.openText(text));
  }
  let changed = false;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const next = resealValue(ring, 'text', v);
      if (next === undefined) return v;
      changed = true;
      return next;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const out = walk(value);
  return changed ? out : undefined;
}

async function tableExists(pool: pg.Pool, table: string, column: string): Promise<boolean> {
  const r = await pool.query(
    `SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2`,
    [table, column],
  );
  return (r.rowCount ?? 0) > 0;
}

async function rotateColumn(pool: pg.Pool, ring: PiiKeyRing, col: SealedColumn): Promise<RotationCount> {
  const count: RotationCount = { table: col.table, column: col.column, rotated: 0, unreadable: 0 };
  const t = ident(col.table);
  const c = ident(col.column);
  const filter =
    col.kind === 'bytea' ? '' : col.kind === 'text' ? `AND ${c} LIKE 'enc%'` : `AND ${c}::text LIKE '%"enc%'`;
  let last = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await pool.query<{ id: string; v: unknown }>(
      `SELECT id, ${c} AS v FROM ${t} WHERE ${c} IS NOT NULL ${filter} AND id > $1 ORDER BY id LIMIT ${BATCH}`,
      [last],
    );
    if (rows.rows.length === 0) return count;
    last = rows.rows[rows.rows.length - 1]!.id;
    const ids: string[] = [];
    const values: unknown[] = [];
    for (const row of rows.rows) {
      try {
        const next = resealValue(ring, col.kind, row.v);
        if (next === undefined) continue;
        ids.push(row.id);
        values.push(col.kind === 'jsonb' ? JSON.stringify(next) : next);
      } catch {
        count.unreadable++;
      }
    }
    if (ids.length === 0) continue;
    await pool.query(
      `UPDATE ${t} AS t SET ${c} = v.value FROM unnest($1::uuid[], $2::${col.kind}[]) AS v(id, value) WHERE t.id = v.id`,
      [ids, values],
    );
    count.rotated += ids.length;
  }
}

/** Re-seals every registered column's ciphertexts under `ring.activeKeyId`; counts per column. */
export async function rotatePii(
  pool: pg.Pool,
  ring: PiiKeyRing,
  flowColumns: readonly SealedColumn[] = [],
): Promise<RotationCount[]> {
  const counts: RotationCount[] = [];
  for (const col of [...SEALED_COLUMNS, ...flowColumns]) {
    if (!(await tableExists(pool, col.table, col.column))) continue;
    counts.push(await rotateColumn(pool, ring, col));
  }
  return counts;
}
