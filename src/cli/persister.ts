import { createServer, type Server } from 'node:http';
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { createLogger, safeUrl } from '../observability/logger.js';
import { registry } from '../observability/metrics.js';
import { Persister } from '../persistence/persister.js';

function serveMetrics(port: number): Server {
  return createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(req.url === '/healthz' ? 200 : 404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  }).listen(port, '127.0.0.1');
}

/** `voice-agent persister`: drains the call-event queue into Postgres until SIGTERM/SIGINT. */
export function registerPersister(program: Command): void {
  program
    .command('persister')
    .description('Consume call events from the queue and write them to PostgreSQL')
    .option('--concurrency <n>', 'batches written in parallel (default PERSISTER_CONCURRENCY)')
    .option('--metrics-port <port>', 'serve Prometheus metrics on 127.0.0.1:<port>/metrics')
    .action(async (opts: { concurrency?: string; metricsPort?: string }) => {
      const cfg = loadConfig();
      if (opts.concurrency) cfg.PERSISTER_CONCURRENCY = Number(opts.concurrency);
      const log = createLogger({ name: 'persister', level: cfg.LOG_LEVEL });
      const persister = Persister.fromConfig(cfg, log);
      await persister.start();
      const metrics = opts.metricsPort ? serveMetrics(Number(opts.metricsPort)) : undefined;
      log.info(
        {
          queue: cfg.EVENT_QUEUE,
          database: safeUrl(cfg.DATABASE_URL),
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
