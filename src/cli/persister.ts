import type { Server } from 'node:http';
import type { Command } from 'commander';
import { flowPackages } from '../../agents/index.js';
import { loadConfig } from '../config/config.js';
import { serviceDatabaseUrl } from '../config/service-database.js';
import { startHttpServer } from '../observability/http.js';
import { createLogger, safeUrl } from '../observability/logger.js';
import { registry } from '../observability/metrics.js';
import { Persister } from '../persistence/persister.js';
import { recordWritersOf } from '../persistence/record-writers.js';

/** `voice-agent persister`: drains the call-event queue into Postgres until SIGTERM/SIGINT. */
export function registerPersister(program: Command): void {
  program
    .command('persister')
    .description('Consume call events from the queue and write them to PostgreSQL')
    .option('--concurrency <n>', 'batches written in parallel (default PERSISTER_CONCURRENCY)')
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics on HTTP_HOST:<port>/metrics (default loopback)',
    )
    .action(async (opts: { concurrency?: string; metricsPort?: string }) => {
      const cfg = loadConfig();
      if (opts.concurrency) cfg.PERSISTER_CONCURRENCY = Number(opts.concurrency);
      const log = createLogger({ name: 'persister', level: cfg.LOG_LEVEL });
      const persister = Persister.fromConfig(cfg, log, {
        records: recordWritersOf(flowPackages),
        packages: flowPackages,
      });
      await persister.start();
      // Same rules as the worker's: HTTP_HOST (loopback by default) and HTTP_BEARER_TOKEN.
      const metrics: Server | undefined = opts.metricsPort
        ? await startHttpServer(
            Number(opts.metricsPort),
            registry,
            { ready: () => ({ ready: true }) },
            {
              host: cfg.HTTP_HOST,
              bearerToken: cfg.HTTP_BEARER_TOKEN,
            },
          )
        : undefined;
      log.info(
        {
          queue: cfg.EVENT_QUEUE,
          database: safeUrl(serviceDatabaseUrl(cfg, 'persister')),
          concurrency: cfg.PERSISTER_CONCURRENCY,
        },
        'persister started',
      );

      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) {
            log.warn({ signal }, 'second signal: exiting without waiting for batches in hand');
            process.exit(1);
          }
          stopping = true;
          log.info({ signal }, 'finishing batches in hand, then exiting');
          persister.close().then(resolve, (err: Error) => {
            log.error({ err: err.message }, 'error during shutdown');
            process.exitCode = 1;
            resolve();
          });
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      metrics?.close();
      log.info('persister stopped');
    });
}
