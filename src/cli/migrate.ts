import type { Command } from 'commander';
import { flowMigrationSets } from '../../agents/index.js';
import { loadConfig } from '../config/config.js';
import { migrateUp, migrationStatus } from '../persistence/migrate.js';

/** `voice-agent migrate up|status`: schema management (creates the database if missing). */
export function registerMigrate(program: Command): void {
  const migrate = program.command('migrate').description('Apply or inspect database migrations');

  migrate
    .command('up')
    .description('Create the database if needed and apply pending migrations in order')
    .option('--dir <path>', 'migrations folder (default: the repository migrations/)')
    .action(async (opts: { dir?: string }) => {
      const cfg = loadConfig();
      const result = await migrateUp(cfg.DATABASE_URL, {
        ...(opts.dir ? { dir: opts.dir } : {}),
        flows: flowMigrationSets(),
        log: (line) => console.log(line),
      });
      console.log(
        result.applied.length === 0
          ? 'schema is up to date'
          : `applied ${result.applied.length} migration(s)`,
      );
    });

  migrate
    .command('status')
    .description('List migrations and whether each is applied, pending or changed')
    .option('--dir <path>', 'migrations folder (default: the repository migrations/)')
    .action(async (opts: { dir?: string }) => {
      const cfg = loadConfig();
      const statuses = await migrationStatus(cfg.DATABASE_URL, {
        ...(opts.dir ? { dir: opts.dir } : {}),
        flows: flowMigrationSets(),
      });
      for (const s of statuses) {
        const when = s.appliedAt ? ` ${s.appliedAt.toISOString()}` : '';
        console.log(`${s.state.padEnd(8)} ${s.name}${when}`);
      }
      if (statuses.some((s) => s.state === 'changed')) {
        console.error('error: a migration changed after being applied; `migrate up` will refuse to run');
        process.exitCode = 1;
      }
    });
}
