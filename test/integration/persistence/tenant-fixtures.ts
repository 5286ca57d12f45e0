import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { withDatabaseRole } from '../../../src/config/service-database.js';
import type { CallEvent } from '../../../src/events/index.js';
import { sampleCall } from './helpers.js';

/**
 * Tenancy fixtures: tenant tables found in the catalogue (so tables other migrations add are
 * covered without editing the tests), connections as the service roles (superusers bypass
 * row-level security, so isolation is only ever tested through these), and sample rows.
 */

export const SERVICE_ROLES = ['voice_persister', 'voice_worker', 'voice_admin_api', 'voice_reporting'];

export interface TenantTable {
  name: string;
  forced: boolean;
  enabled: boolean;
}

/** Every table (not partition) in public with an organization_id column. */
export async function tenantTables(pool: pg.Pool): Promise<TenantTable[]> {
  const { rows } = await pool.query<TenantTable>(
    `SELECT c.relname AS name, c.relforcerowsecurity AS forced, c.relrowsecurity AS enabled
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'organization_id' AND NOT a.attisdropped
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      ORDER BY 1`,
  );
  return rows;
}

export function rolePool(url: string, role: string): pg.Pool {
  return new pg.Pool({ connectionString: withDatabaseRole(url, role), max: 2 });
}

export async function createOrganization(pool: pg.Pool, name: string): Promise<string> {
  const id = randomUUID();
  await pool.query('INSERT INTO organizations (id, name) VALUES ($1, $2)', [id, name]);
  return id;
}

/** A sample call whose events all claim `organizationId` (as a worker's route would set). */
export function callOf(organizationId: string, callId = randomUUID(), at?: number): CallEvent[] {
  return sampleCall(callId, at).map((e) => ({ ...e, organization_id: organizationId }));
}

type ColumnInfo = { column_name: string; data_type: string; udt_name: string };

function valueFor(col: ColumnInfo, organizationId: string, conversationId: string): unknown {
  if (col.column_name === 'organization_id') return organizationId;
  if (col.column_name === 'conversation_id') return conversationId;
  switch (col.udt_name) {
    case 'uuid':
      return randomUUID();
    case 'int2':
    case 'int4':
    case 'int8':
    case 'numeric':
    case 'float8':
      return 1;
    case 'bool':
      return false;
    case 'jsonb':
    case 'json':
      return '{}';
    case 'bytea':
      return '\\x00';
    case 'date':
      return '2030-01-01';
    case 'time':
      return '12:00';
    case 'timestamptz':
    case 'timestamp':
      return new Date().toISOString();
    default:
      return col.data_type === 'ARRAY' ? '{}' : `x${randomUUID().slice(0, 8)}`;
  }
}

/**
 * Makes sure `table` holds a row of the organization, as the superuser: a table the sample
 * calls and control-plane fixtures did not fill gets a best-effort row (required columns
 * filled by type). Returns false when that row is refused (e.g. a CHECK the guess misses).
 */
export async function ensureRow(
  admin: pg.Pool,
  table: string,
  organizationId: string,
  conversationId: string,
): Promise<boolean> {
  const has = await admin.query(`SELECT 1 FROM ${table} WHERE organization_id = $1 LIMIT 1`, [
    organizationId,
  ]);
  if (has.rowCount) return true;
  const { rows: cols } = await admin.query<ColumnInfo>(
    `SELECT column_name, data_type, udt_name FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name = $1 AND is_nullable = 'NO'
        AND (column_default IS NULL OR column_name IN ('organization_id', 'conversation_id'))`,
    [table],
  );
  const values = cols.map((c) => valueFor(c, organizationId, conversationId));
  const list = cols.map((c) => `"${c.column_name}"`).join(', ');
  const params = cols.map((_, i) => `$${i + 1}`).join(', ');
  try {
    await admin.query(`INSERT INTO ${table} (${list}) VALUES (${params})`, values);
    return true;
  } catch {
    return false;
  }
}
