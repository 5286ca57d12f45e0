import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { runWorker } from '../worker/server.js';

export function registerWorker(program: Command): void {
  const worker = program
    .command('worker')
    .description('run the voice agent worker (registers with LiveKit and takes dispatched calls)');

  worker
    .command('dev')
    .description(
      'development: the framework in development mode (WORKER_EXECUTOR=process: one warm job process)',
    )
    .action(async () => {
      await runWorker(loadConfig(), { mode: 'dev' });
    });

  worker
    .command('start')
    .description(
      'production: JSON logs, load reporting, drain on SIGTERM (WORKER_EXECUTOR: calls in this process or a process each)',
    )
    .option('--http-port <port>', 'health/metrics port (default HTTP_PORT)', (v) => Number(v))
    .action(async (opts: { httpPort?: number }) => {
      await runWorker(loadConfig(), {
        mode: 'start',
        ...(opts.httpPort !== undefined ? { httpPort: opts.httpPort } : {}),
      });
    });
}
