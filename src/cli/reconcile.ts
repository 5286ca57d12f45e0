import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { serviceDatabaseUrl } from '../config/service-database.js';
import { createPool } from '../persistence/db.js';
import { listIncomplete, recheckSince } from '../persistence/reconcile.js';
import { forEachOrganization } from '../persistence/tenant-scope.js';
import { UsageError } from '../util/usage-error.js';

/**
 * `voice-agent reconcile [--since ISO] [--json]`: ended calls whose rows in Postgres fall short
 * of what their call.ended declared. Re-checks them first, so the list is current.
 * Exit code 1 when any call is incomplete (scripts can alert on it).
 */
export function registerReconcile(program: Command): void {
  program
    .command('reconcile')
    .description('List ended calls whose persisted rows do not match the events the call emitted')
    .option('--since <iso>', 'only calls ended at or after this time (default: 24 hours ago)')
    .option('--json', 'print {"incomplete":[{callId,endedAt,missing}]}')
    .action(async (opts: { since?: string; json?: boolean }) => {
      const since = opts.since ? new Date(opts.since) : new Date(Date.now() - 86_400_000);
      if (Number.isNaN(since.getTime()))
        throw new UsageError(`--since must be an ISO time, got "${opts.since}"`);
      const pool = createPool(serviceDatabaseUrl(loadConfig(), 'persister'), { max: 1 });
      try {
        const incomplete = (
          await forEachOrganization(pool, async (client) => {
            await recheckSince(client, since);
            return listIncomplete(client, since);
          })
        ).flat();
        if (opts.json) console.log(JSON.stringify({ since: since.toISOString(), incomplete }));
        else {
          for (const c of incomplete) {
            const missing = Object.entries(c.missing)
              .map(([type, m]) => `${type} ${m.observed}/${m.declared}`)
              .join(', ');
            console.log(`${c.callId}  ended ${c.endedAt}  ${missing || 'rows short'}`);
          }
          console.log(`${incomplete.length} incomplete call(s) ended since ${since.toISOString()}`);
        }
        if (incomplete.length > 0) process.exitCode = 1;
      } finally {
        await pool.end();
      }
    });
}
