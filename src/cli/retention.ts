import type { Command } from 'commander';
import { flowPackages } from '../../agents/index.js';
import { loadConfig } from '../config/config.js';
import { serviceDatabaseUrl } from '../config/service-database.js';
import { createPool } from '../persistence/db.js';
import { retentionPolicy, runRetention } from '../persistence/retention.js';

/** `voice-agent retention run`: the persister's daily job, on demand. */
export function registerRetention(program: Command): void {
  const retention = program.command('retention').description('Archive and purge old call records');

  retention
    .command('run')
    .description('Archive conversations older than RETENTION_DAYS and purge expired data now')
    .action(async () => {
      const cfg = loadConfig();
      const pool = createPool(serviceDatabaseUrl(cfg, 'persister'), { max: 2 });
      try {
        // The same policy as the persister's daily run, flows' archived tables and rules included.
        const report = await runRetention(pool, retentionPolicy(cfg, flowPackages));
        console.log(JSON.stringify(report));
      } finally {
        await pool.end();
      }
    });
}
