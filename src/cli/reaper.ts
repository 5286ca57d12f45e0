import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { serviceDatabaseUrl } from '../config/service-database.js';
import { oldestBacklogAt } from '../events/backlog-report.js';
import { closeQueueSafely, openQueueObserver } from '../events/queue-stats.js';
import { createPool } from '../persistence/db.js';
import { reapStaleCalls } from '../persistence/reaper.js';
import { withTimeout } from '../util/async.js';
import { UsageError } from '../util/usage-error.js';

/** `voice-agent reaper run`: one pass of the persister's crash reaper, now. */
export function registerReaper(program: Command): void {
  const reaper = program
    .command('reaper')
    .description('Mark calls whose worker stopped sending heartbeats as INTERRUPTED');

  reaper
    .command('run')
    .description('Mark ACTIVE calls without a heartbeat for REAPER_STALE_SECONDS as INTERRUPTED, once')
    .option('--stale-seconds <n>', 'threshold in seconds (default REAPER_STALE_SECONDS)')
    .option(
      '--ignore-backlog',
      'do not hold back for batches still queued in Redis (use when Redis is gone for good)',
    )
    .action(async (opts: { staleSeconds?: string; ignoreBacklog?: boolean }) => {
      const cfg = loadConfig();
      const staleSeconds =
        opts.staleSeconds === undefined ? cfg.REAPER_STALE_SECONDS : Number(opts.staleSeconds);
      if (!(staleSeconds > 0)) throw new UsageError(`--stale-seconds must be a positive number`);

      let backlogSince: Date | null = null;
      if (!opts.ignoreBacklog) {
        // Heartbeats still in the queue are not in Postgres yet: judge silence only up to the
        // oldest of them, as the persister's periodic reaper does.
        const queue = openQueueObserver(cfg.REDIS_URL, cfg.EVENT_QUEUE);
        try {
          backlogSince = await withTimeout(oldestBacklogAt(queue), 3000, 'event backlog check');
        } catch (err) {
          throw new UsageError(
            `cannot read the event queue (${(err as Error).message}); calls whose heartbeats are still ` +
              'queued could be reaped by mistake. Retry when Redis is back, or pass --ignore-backlog.',
          );
        } finally {
          await closeQueueSafely(queue, 500);
        }
      }

      const pool = createPool(serviceDatabaseUrl(cfg, 'persister'), { max: 1 });
      try {
        const calls = await reapStaleCalls(pool, { staleSeconds, backlogSince, reaperId: 'cli' });
        console.log(
          JSON.stringify({
            reaped: calls.length,
            staleSeconds,
            backlogSince: backlogSince?.toISOString() ?? null,
            calls: calls.map((c) => ({ id: c.id, ended_at: c.endedAt, duration_seconds: c.durationSeconds })),
          }),
        );
      } finally {
        await pool.end();
      }
    });
}
