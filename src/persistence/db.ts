import pg from 'pg';
import { sleep } from '../util/async.js';

/**
 * Postgres plumbing shared by the migration runner, persister and retention: pool creation
 * and the error classification that decides between "retry later" and "dead-letter".
 */

export interface PoolOptions {
  max?: number;
  /** Fail fast while the database is down so the queue's backoff, not a hung socket, waits. */
  connectionTimeoutMillis?: number;
  onError?: (err: Error) => void;
}

export function createPool(databaseUrl: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5000,
    idleTimeoutMillis: 30_000,
    application_name: 'voice-agent',
  });
  // An idle client losing its connection emits on the pool; without a listener Node would
  // crash the process. The next query simply opens a fresh connection.
  pool.on('error', (err) => options.onError?.(err));
  return pool;
}

/** Database name and a URL for the `postgres` maintenance database on the same server. */
export function splitDatabaseUrl(databaseUrl: string): { database: string; maintenanceUrl: string } {
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) throw new Error('DATABASE_URL names no database (expected …/dbname)');
  url.pathname = '/postgres';
  return { database, maintenanceUrl: url.toString() };
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Drops a scratch database (tests, benchmarks). A pool's end() resolves while its clients are
 * still closing; forcing the drop at that moment makes the server terminate them (57P01), an
 * error those clients no longer have a listener for. So wait (bounded) until the database's
 * own connections are gone, then force out whatever is left.
 */
export async function dropDatabase(url: string, waitMs = 5000): Promise<void> {
  const { database, maintenanceUrl } = splitDatabaseUrl(url);
  const admin = new pg.Client({ connectionString: maintenanceUrl });
  await admin.connect();
  try {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const r = await admin.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [database],
      );
      if (r.rows[0]!.n === 0 || Date.now() > deadline) break;
      await sleep(50);
    }
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

interface PgLikeError {
  code?: string;
  message?: string;
}

/**
 * True when the statement itself was fine but the database could not be reached or went away
 * (connection refused/reset, server shutting down, too many connections): retry later.
 */
export function isConnectionError(err: unknown): boolean {
  const e = err as PgLikeError;
  const code = e?.code ?? '';
  if (/^(08|57P|53)/.test(code)) return true; // connection exception, shutdown, resources
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'].includes(code))
    return true;
  const msg = e?.message ?? '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly|connect ECONNREFUSED/i.test(
    msg,
  );
}

/** Deadlock or serialization failure: the same transaction may simply be run again. */
export function isTransientConflict(err: unknown): boolean {
  const code = (err as PgLikeError)?.code;
  return code === '40P01' || code === '40001';
}

/**
 * The data was refused (bad value, constraint violation): retrying the same event can never
 * succeed, so it belongs in the dead-letter queue.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as PgLikeError)?.code ?? '';
  return /^(22|23)/.test(code);
}

/** Runs `fn` in a transaction on a pooled client, retrying deadlocks a few times. */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      broken = isConnectionError(err);
      if (!broken) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
      }
      if (isTransientConflict(err) && attempt < 5) continue;
      throw err;
    } finally {
      // A client whose connection broke must not go back to the pool.
      client.release(broken ? true : undefined);
    }
  }
}
