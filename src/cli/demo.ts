import type { Command } from 'commander';
import { getFlowPackage } from '../../agents/index.js';
import { loadConfig } from '../config/config.js';
import { runDemo } from '../demo/demo.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('bring up the local stack and place one scripted call through the real pipeline')
    .option('--caller <script.yaml>', "caller script (default: the FLOW package's demo script)")
    .option('--keep', 'leave the worker and persister running afterwards')
    .action(async (opts: { caller?: string; keep?: boolean }) => {
      const cfg = loadConfig();
      const demo = getFlowPackage(cfg.FLOW).demo;
      const script = opts.caller ?? demo?.script;
      if (!script) throw new Error(`flow ${cfg.FLOW} has no demo script: pass --caller`);
      const result = await runDemo(cfg, { script, keep: !!opts.keep });
      console.log(`\ndemo call ${result.callId} finished: ${result.status}`);
      // rtc-node's native handles keep the event loop alive after the caller left.
      process.exit(0);
    });
}
