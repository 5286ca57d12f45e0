import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { quoteIdent, splitDatabaseUrl } from './db.js';
import { tableNames, unprotectedNewTables } from './flow-table-guard.js';

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
  /**
   * Flow packages' own migrations (FlowPackage.migrations), applied after the core ones in
   * this order, checksummed the same way and recorded in flow_migrations as "<flow>/<file>".
   */
  flows?: readonly FlowMigrations[];
}

export interface FlowMigrations {
  flow: string;
  dir: string;
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

const CREATE_FLOW_TABLE = `
  CREATE TABLE IF NOT EXISTS flow_migrations (
    flow TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    checksum CHAR(64) NOT NULL,
    applied_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    execution_ms INTEGER NOT NULL,
    PRIMARY KEY (flow, version)
  )`;

/** A flow's migrations; a package that names a folder that is not there is misconfigured. */
async function loadFlowMigrations(set: FlowMigrations): Promise<MigrationFile[]> {
  if (!existsSync(set.dir)) {
    throw new MigrationError(
      `flow ${set.flow} declares its migrations in ${set.dir}, which does not exist ` +
        '(create the folder, or drop `migrations` from the package definition)',
    );
  }
  const files = await loadMigrations(set.dir);
  return files.map((f) => ({ ...f, name: `${set.flow}/${f.name}` }));
}

type RecordApplied = (file: MigrationFile, ms: number) => Promise<unknown>;

/** Runs one migration as the migrator and writes its bookkeeping row (inside a transaction). */
async function runOne(client: pg.Client, file: MigrationFile, record: RecordApplied): Promise<void> {
  const started = Date.now();
  await becomeMigrator(client);
  await client.query(file.sql);
  // The bookkeeping row is written as whoever connected (it owns the bookkeeping tables).
  await client.query('RESET ROLE');
  await record(file, Date.now() - started);
}

/** Applies the core's pending migrations, each in its own transaction with its record. */
async function applyPending(
  client: pg.Client,
  files: MigrationFile[],
  statuses: MigrationStatus[],
  record: RecordApplied,
  log: MigrateOptions['log'],
): Promise<string[]> {
  const applied: string[] = [];
  for (const file of pendingFiles(files, statuses)) {
    const started = Date.now();
    await client.query('BEGIN');
    try {
      await runOne(client, file, record);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw new MigrationError(`${file.name} failed and was rolled back: ${(err as Error).message}`);
    }
    applied.push(file.name);
    log?.(`applied ${file.name} in ${Date.now() - started} ms`);
  }
  return applied;
}

/**
 * Applies a flow's pending migrations in one transaction, committed only when every table
 * they created is a tenant table (organization_id, row-level security forced, a policy): a
 * later migration of the set may add the security an earlier one forgot.
 */
async function applyFlowPending(
  client: pg.Client,
  flow: string,
  files: MigrationFile[],
  statuses: MigrationStatus[],
  record: RecordApplied,
  log: MigrateOptions['log'],
): Promise<string[]> {
  const pending = pendingFiles(files, statuses);
  if (pending.length === 0) return [];
  const started = Date.now();
  let current = pending[0] as MigrationFile;
  await client.query('BEGIN');
  try {
    const before = await tableNames(client);
    for (const file of pending) {
      current = file;
      await runOne(client, file, record);
    }
    const problems = await unprotectedNewTables(client, before);
    if (problems.length) throw new Error(`every flow table must be a tenant table: ${problems.join('; ')}`);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw new MigrationError(
      `${current.name} failed; flow ${flow}'s pending migrations were rolled back: ${(err as Error).message}`,
    );
  }
  const names = pending.map((file) => file.name);
  log?.(`applied ${names.join(', ')} in ${Date.now() - started} ms`);
  return names;
}

function pendingFiles(files: MigrationFile[], statuses: MigrationStatus[]): MigrationFile[] {
  const pending = new Set(statuses.filter((s) => s.state === 'pending').map((s) => s.version));
  return files.filter((file) => pending.has(file.version));
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

export const MIGRATOR_ROLE = 'voice_migrator';

/**
 * Once migration 010 set up the migrator role in this database (it may exist on the server
 * already, from other databases), every later migration runs as it (this transaction only),
 * so the tables it creates belong to the migrator and not to whoever connected, and no
 * service role ever owns a table (an owner could switch RLS off).
 */
async function becomeMigrator(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ member: boolean }>(
    `SELECT pg_has_role(current_user, oid, 'MEMBER')
        AND has_schema_privilege(oid, 'public', 'CREATE') AS member
       FROM pg_roles WHERE rolname = $1`,
    [MIGRATOR_ROLE],
  );
  if (rows[0]?.member) await client.query(`SET LOCAL ROLE ${MIGRATOR_ROLE}`);
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
    const flowSets = await Promise.all(
      (options.flows ?? []).map(async (f) => ({ f, files: await loadFlowMigrations(f) })),
    );
    if (flowSets.length) await client.query(CREATE_FLOW_TABLE);
    const flowStatuses = [];
    for (const { f, files: flowFiles } of flowSets) {
      const done = await client.query<AppliedRow>(
        'SELECT version, name, checksum, applied_at FROM flow_migrations WHERE flow = $1',
        [f.flow],
      );
      const st = compare(flowFiles, done.rows);
      refuseChanged(st);
      flowStatuses.push({ f, files: flowFiles, st });
    }
    applied.push(
      ...(await applyPending(
        client,
        files,
        statuses,
        (file, ms) =>
          client.query(
            'INSERT INTO schema_migrations (version, name, checksum, execution_ms) VALUES ($1, $2, $3, $4)',
            [file.version, file.name, file.checksum, ms],
          ),
        options.log,
      )),
    );
    for (const { f, files: flowFiles, st } of flowStatuses) {
      applied.push(
        ...(await applyFlowPending(
          client,
          f.flow,
          flowFiles,
          st,
          (file, ms) =>
            client.query(
              'INSERT INTO flow_migrations (flow, version, name, checksum, execution_ms) VALUES ($1, $2, $3, $4, $5)',
              [f.flow, file.version, file.name, file.checksum, ms],
            ),
          options.log,
        )),
      );
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
    const exists = await client.query(
      "SELECT to_regclass('schema_migrations') IS NOT NULL AS core, to_regclass('flow_migrations') IS NOT NULL AS flows",
    );
    const rows = exists.rows[0]?.core
      ? (await client.query<AppliedRow>('SELECT version, name, checksum, applied_at FROM schema_migrations'))
          .rows
      : [];
    const out = compare(files, rows);
    for (const f of options.flows ?? []) {
      const flowFiles = await loadFlowMigrations(f);
      const done = exists.rows[0]?.flows
        ? (
            await client.query<AppliedRow>(
              'SELECT version, name, checksum, applied_at FROM flow_migrations WHERE flow = $1',
              [f.flow],
            )
          ).rows
        : [];
      out.push(...compare(flowFiles, done));
    }
    return out;
  } finally {
    await client.end();
  }
}
