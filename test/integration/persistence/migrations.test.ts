import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  defaultMigrationsDir,
  loadMigrations,
  MigrationError,
  migrateUp,
  migrationStatus,
} from '../../../src/persistence/migrate.js';
import { databaseUrl, dropDatabase, randomName } from './helpers.js';

describe('migration runner', () => {
  const created: string[] = [];
  const tmpDirs: string[] = [];
  const freshUrl = () => {
    const url = databaseUrl(randomName('va_test'));
    created.push(url);
    return url;
  };
  const copyOfMigrations = () => {
    const dir = mkdtempSync(join(tmpdir(), 'va-migrations-'));
    tmpDirs.push(dir);
    cpSync(defaultMigrationsDir(), dir, { recursive: true });
    return dir;
  };

  afterAll(async () => {
    for (const url of created) await dropDatabase(url);
    for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
  });

  it('creates the database, applies everything in order, and a second run does nothing', async () => {
    const url = freshUrl();
    const files = await loadMigrations();
    const first = await migrateUp(url);
    expect(first.createdDatabase).toBe(true);
    expect(first.applied).toEqual(files.map((f) => f.name));

    const second = await migrateUp(url);
    expect(second).toEqual({ applied: [], createdDatabase: false });
    expect((await migrationStatus(url)).every((s) => s.state === 'applied')).toBe(true);

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const tables = await client.query<{ tablename: string }>(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
      );
      expect(tables.rows.map((r) => r.tablename)).toEqual(
        expect.arrayContaining([
          'organizations',
          'conversations',
          'conversation_turns',
          'state_transitions',
          'extracted_slots',
          'appointments',
          'system_metrics',
          'error_logs',
          'user_feedback',
          'call_events',
          'conversations_archive',
          'schema_migrations',
        ]),
      );
      const views = await client.query<{ viewname: string }>(
        "SELECT viewname FROM pg_views WHERE schemaname = 'public' ORDER BY 1",
      );
      expect(views.rows.map((r) => r.viewname)).toEqual([
        'avg_duration_by_state',
        'conversation_success_rate',
        'error_rate_by_type',
        'slot_extraction_accuracy',
      ]);
      // Without TimescaleDB the metrics table is natively partitioned, with a default partition.
      const parts = await client.query<{ relname: string }>(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'system_metrics'::regclass",
      );
      expect(parts.rows.map((r) => r.relname)).toContain('system_metrics_default');
      expect(parts.rows.length).toBeGreaterThanOrEqual(5);
      await expect(
        client.query("INSERT INTO conversations (session_id, room_name, status) VALUES ('s', 'r', 'bogus')"),
      ).rejects.toThrow(/check constraint/);
    } finally {
      await client.end();
    }
  });

  it('lets only one of two concurrent runners apply each migration', async () => {
    const url = freshUrl();
    const [a, b] = await Promise.all([migrateUp(url), migrateUp(url)]);
    const files = await loadMigrations();
    expect([...a.applied, ...b.applied].sort()).toEqual(files.map((f) => f.name).sort());
  });

  it('refuses to run when an applied migration has changed', async () => {
    const url = freshUrl();
    const dir = copyOfMigrations();
    await migrateUp(url, { dir });
    const [first] = await loadMigrations(dir);
    writeFileSync(join(dir, first!.name), `${first!.sql}\n-- an innocent-looking edit\n`);
    await expect(migrateUp(url, { dir })).rejects.toThrow(MigrationError);
    await expect(migrateUp(url, { dir })).rejects.toThrow(/001_core_schema\.sql changed after being applied/);
    const status = await migrationStatus(url, { dir });
    expect(status.find((s) => s.name === first!.name)?.state).toBe('changed');
  });

  it('applies a new migration and rolls back a failing one completely', async () => {
    const url = freshUrl();
    const dir = copyOfMigrations();
    await migrateUp(url, { dir });
    writeFileSync(join(dir, '900_add_thing.sql'), 'CREATE TABLE thing (id int);');
    writeFileSync(join(dir, '901_broken.sql'), 'CREATE TABLE other (id int); SELECT no_such_function();');
    await expect(migrateUp(url, { dir })).rejects.toThrow(/901_broken\.sql failed and was rolled back/);
    const status = await migrationStatus(url, { dir });
    expect(status.find((s) => s.version === 900)?.state).toBe('applied');
    expect(status.find((s) => s.version === 901)?.state).toBe('pending');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const other = await client.query("SELECT to_regclass('other') AS t");
    await client.end();
    expect(other.rows[0].t).toBeNull();
  });

  it('rejects badly named or duplicate-numbered files', async () => {
    const dir = copyOfMigrations();
    writeFileSync(join(dir, '001_again.sql'), 'SELECT 1;');
    await expect(loadMigrations(dir)).rejects.toThrow(/share version 1/);
    rmSync(join(dir, '001_again.sql'));
    writeFileSync(join(dir, 'latest.sql'), 'SELECT 1;');
    await expect(loadMigrations(dir)).rejects.toThrow(/NNN_description\.sql/);
  });
});
