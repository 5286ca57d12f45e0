import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';

/** The local stack is loopback-only and runs on the dev keys of livekit.yaml: development mode. */
const stackConfig = () => loadConfig({ ...process.env, VOICE_AGENT_DEV: process.env.VOICE_AGENT_DEV ?? '1' });

import { LocalStack } from '../stack/stack.js';

export function registerStack(program: Command): void {
  const stack = program
    .command('stack')
    .description('start, stop and inspect the local stack (LiveKit, SIP bridge, Postgres, Redis)');

  stack
    .command('up')
    .description('start whatever is not running and wait until every component is healthy')
    .action(async () => {
      const s = new LocalStack(stackConfig());
      await s.up();
      console.log(`stack is up; logs in ${s.paths.logs}`);
    });

  stack
    .command('down')
    .description('stop only the processes that `stack up` started')
    .action(async () => {
      await new LocalStack(stackConfig()).down();
    });

  stack
    .command('status')
    .description('show each component and whether it is healthy (exit 1 if any is not)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const rows = await new LocalStack(stackConfig()).status();
      if (opts.json) console.log(JSON.stringify(rows, null, 2));
      else
        for (const r of rows) {
          const pid = r.pid ? ` pid ${r.pid}` : '';
          console.log(
            `${r.name.padEnd(15)} ${r.healthy ? 'healthy  ' : 'unhealthy'} ${r.state}${pid}  ${r.detail}`,
          );
        }
      if (rows.some((r) => !r.healthy)) process.exitCode = 1;
    });
}
