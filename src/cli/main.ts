#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError } from '../config/config.js';
import { registerDemo } from './demo.js';
import { registerDial } from './dial.js';
import { registerDlq } from './dlq.js';
import { registerMigrate } from './migrate.js';
import { registerPersister } from './persister.js';
import { registerPool } from './pool.js';
import { registerReaper } from './reaper.js';
import { registerRetention } from './retention.js';
import { registerSimulate } from './simulate.js';
import { registerSip } from './sip.js';
import { registerStack } from './stack.js';
import { registerWorker } from './worker.js';

const program = new Command()
  .name('voice-agent')
  .description('Real-time voice agent worker: SIP → LiveKit → speech → conversation engine → speech')
  .showHelpAfterError();

registerStack(program);
registerSip(program);
registerDial(program);
registerWorker(program);
registerPool(program);
registerDemo(program);
registerMigrate(program);
registerPersister(program);
registerDlq(program);
registerRetention(program);
registerReaper(program);
registerSimulate(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  // Expected failures (bad config, missing binary, taken port) get one clear line, no stack.
  const e = err as Error;
  const expected = e instanceof ConfigError || ['StackError', 'ScriptError', 'UsageError'].includes(e?.name);
  console.error(`voice-agent: ${expected ? e.message : (e?.stack ?? String(err))}`);
  process.exit(1);
});
