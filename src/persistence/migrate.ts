import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { quoteIdent, splitDatabaseUrl } from './db.js';

/**
 * Applies migrations/NNN_name.sql in order, each in its own transaction, recording name and
 * sha256 in schema_migrations. Applied migrations are immutable: an edited one is refused
 * rather than silently diverging from what production ran.
 */

export interface MigrationFile {
  version: number;
  name: string;
  checksum: string;
  sql: string;
}

export interface MigrationStatus {
  version: number;
  name: string;
  state: 'applied' | 'pending' | 'changed' | 'unknown';
  appliedAt?: Date;
}

export interface MigrateOptions {
  /** Folder holding the .sql files; defaults to the repository's migrations/. */
  dir?: string;
  /** Progress lines (one per applied migration); defaults to silence. */
  log?: (line: string) => void;
}

export interface MigrateResult {
  applied: string[];
  createdDatabase: boolean;
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

// Arbitrary constant shared by every runner: "voic" "emig" in ASCII.
const LOCK_KEY_1 = 0x766f6963;
const LOCK_KEY_2 = 0x656d6967;
const FILE_PATTERN = /^(\d+)_([A-Za-z0-9_.-]+)\.sql$/;

/** migrations/ next to package.json, found from this file whether run from src/ or dist/src/. */
export function defaultMigrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'migrations'))) {
      return join(dir, 'migrations');
    }
    dir = resolve(dir, '..');
  }
  throw new MigrationError('cannot find the migrations/ folder; pass --dir');
}

export async function loadMigrations(dir = defaultMigrationsDir()): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.sql')).sort();
  const files: MigrationFile[] = [];
  const seen = new Map<number, string>();
  for (const name of names) {
    const match = FILE_PATTERN.exec(name);
    if (!match) throw new MigrationError(`${name}: migration files must be named NNN_description.sql`);
    const version = Number(match[1]);
    const clash = seen.get(version);
    if (clash) throw new MigrationError(`${name} and ${clash} share version ${version}`);
    seen.set(version, name);
    const sql = await readFile(join(dir, name), 'utf8');
    files.push({ version, name, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return files.sort((a, b) => a.version - b.version);
}

/** Creates the database named in the URL if it is missing. Returns true if it created it. */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const { database, maintenanceUrl } = splitDatabaseUrl(databaseUrl);
  const client = new pg.Client({ connectionString: maintenanceUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(database)}`);
      return true;
    } catch (err) {
      // Another runner created it between our check and our CREATE.
      const code = (err as { code?: string }).code;
      if (code === '42P04' || code === '23505') return false;
      throw err;
    }
  } finally {
    await client.end();
  }
}

const CREATE_TABLE = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    checksum CHAR(64) NOT NULL,
    applied_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    execution_ms INTEGER NOT NULL
  )`;

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
  applied_at: Date;
}

function compare(files: MigrationFile[], applied: AppliedRow[]): MigrationStatus[] {
  const byVersion = new Map(applied.map((r) => [r.version, r]));
  const statuses: MigrationStatus[] = files.map((f) => {
    const row = byVersion.get(f.version);
    if (!row) return { version: f.version, name: f.name, state: 'pending' };
    byVersion.delete(f.version);
    const state = row.checksum === f.checksum ? 'applied' : 'changed';
    return { version: f.version, name: f.name, state, appliedAt: row.applied_at };
  });
  // Applied by a newer release than this code: report, do not fail (rolling deploys).
  for (const row of byVersion.values()) {
    statuses.push({ version: row.version, name: row.name, state: 'unknown', appliedAt: row.applied_at });
  }
  return statuses.sort((a, b) => a.version - b.version);
}

function refuseChanged(statuses: MigrationStatus[]): void {
  const changed = statuses.filter((s) => s.state === 'changed');
  if (changed.length === 0) return;
  throw new MigrationError(
    `${changed.map((s) => s.name).join(', ')} changed after being applied (sha256 differs from ` +
      'schema_migrations). Applied migrations are immutable: restore the original file and put ' +
      'the change in a new migration.',
  );
}

/** Brings the database to the latest schema. Idempotent; safe to run from many processes. */
export async function migrateUp(databaseUrl: string, options: MigrateOptions = {}): Promise<MigrateResult> {
  const files = await loadMigrations(options.dir);
  const createdDatabase = await ensureDatabase(databaseUrl);
  if (createdDatabase) options.log?.(`created database ${splitDatabaseUrl(databaseUrl).database}`);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const applied: string[] = [];
  try {
    // Session-level lock: a second runner waits here, then finds nothing left to do.
    await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_KEY_1, LOCK_KEY_2]);
    await client.query('SET client_min_messages = warning');
    await client.query(CREATE_TABLE);
    const rows = await client.query<AppliedRow>(
      'SELECT version, name, checksum, applied_at FROM schema_migrations',
    );
    const statuses = compare(files, rows.rows);
    refuseChanged(statuses);
    const pending = new Set(statuses.filter((s) => s.state === 'pending').map((s) => s.version));
    for (const file of files) {
      if (!pending.has(file.version)) continue;
      const started = Date.now();
      await client.query('BEGIN');
      try {
        await client.query(file.sql);
        await client.query(
          'INSERT INTO schema_migrations (version, name, checksum, execution_ms) VALUES ($1, $2, $3, $4)',
          [file.version, file.name, file.checksum, Date.now() - started],
        );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw new MigrationError(`${file.name} failed and was rolled back: ${(err as Error).message}`);
      }
      applied.push(file.name);
      options.log?.(`applied ${file.name} in ${Date.now() - started} ms`);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_KEY_1, LOCK_KEY_2]).catch(() => {});
    await client.end();
  }
  return { applied, createdDatabase };
}

/** Lists every migration with its state; never changes anything (not even creating the db). */
export async function migrationStatus(
  databaseUrl: string,
  options: MigrateOptions = {},
): Promise<MigrationStatus[]> {
  const files = await loadMigrations(options.dir);
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
  } catch (err) {
    // invalid_catalog_name: the database does not exist yet, so nothing is applied.
    if ((err as { code?: string }).code === '3D000') {
      return files.map((f) => ({ version: f.version, name: f.name, state: 'pending' }));
    }
    throw err;
  }
  try {
    const exists = await client.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
    const rows = exists.rows[0]?.present
      ? (await client.query<AppliedRow>('SELECT version, name, checksum, applied_at FROM schema_migrations'))
          .rows
      : [];
    return compare(files, rows);
  } finally {
    await client.end();
  }
}
