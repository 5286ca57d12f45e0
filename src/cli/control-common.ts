import { userInfo } from 'node:os';
import type pg from 'pg';
import { loadConfig } from '../config/config.js';
import { serviceDatabaseUrl } from '../config/service-database.js';
import type { Actor } from '../control/audit.js';
import { createPool } from '../persistence/db.js';
import { UsageError } from '../util/usage-error.js';

/** Shared plumbing of the control-plane commands (org, user, apikey). */

export { UsageError } from '../util/usage-error.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function requireUuid(value: string, what: string): string {
  if (!UUID.test(value)) throw new UsageError(`${what} must be a UUID (got "${value}")`);
  return value.toLowerCase();
}

/** Who the audit log names for CLI changes: VOICE_AGENT_ACTOR, else the operator's login. */
export function cliActor(): Actor {
  const fromEnv = process.env.VOICE_AGENT_ACTOR?.trim();
  let login = 'unknown';
  try {
    login = userInfo().username;
  } catch {
    // No passwd entry (containers with arbitrary uids): keep "unknown".
  }
  return { type: 'cli', id: fromEnv || login };
}

/**
 * Runs `fn` with a pool connected as the admin API's role (ADMIN_DATABASE_URL): the CLI gets
 * exactly the control plane's privileges and row-level security, no more. Bad input and
 * database refusals become one-line errors.
 */
export async function withAdminPool<T>(fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const cfg = loadConfig();
  const pool = createPool(serviceDatabaseUrl(cfg, 'admin'), { max: 1 });
  try {
    return await fn(pool);
  } catch (err) {
    const e = err as { code?: string; constraint?: string; message?: string };
    if (err instanceof RangeError) throw new UsageError(err.message);
    if (e.code === '23505') throw new UsageError(`already exists (${e.constraint ?? 'unique constraint'})`);
    if (e.code === '23503') throw new UsageError('no such organization');
    if (e.code === '42501') throw new UsageError(`not allowed: ${e.message}`);
    throw err;
  } finally {
    await pool.end();
  }
}

export function printRows(rows: object[], json: boolean | undefined, columns: string[]): void {
  if (json) {
    for (const row of rows) console.log(JSON.stringify(row));
    return;
  }
  for (const row of rows) {
    const r = row as Record<string, unknown>;
    console.log(
      columns
        .map((c) => {
          const v = r[c];
          return v instanceof Date ? v.toISOString() : Array.isArray(v) ? v.join(',') : String(v ?? '-');
        })
        .join('  '),
    );
  }
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
