import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { runDemo } from '../demo/demo.js';

const DEFAULT_SCRIPT = fileURLToPath(
  new URL('../../../test/fixtures/calls/happy-path.yaml', import.meta.url),
);

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('bring up the local stack and place one scripted call through the real pipeline')
    .option('--caller <script.yaml>', 'caller script (see test/fixtures/calls)', DEFAULT_SCRIPT)
    .option('--keep', 'leave the worker and persister running afterwards')
    .action(async (opts: { caller: string; keep?: boolean }) => {
      const result = await runDemo(loadConfig(), { script: opts.caller, keep: !!opts.keep });
      console.log(`\ndemo call ${result.callId} finished: ${result.status}`);
      // rtc-node's native handles keep the event loop alive after the caller left.
      process.exit(0);
    });
}
