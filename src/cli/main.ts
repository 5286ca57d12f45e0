#!/usr/bin/env node
import { Command } from 'commander';
import { flowPackages } from '../../agents/index.js';
import { ConfigError } from '../config/config.js';
import { registerApiKey } from './apikey.js';
import { registerCompliance } from './compliance.js';
import { registerDemo } from './demo.js';
import { registerDial } from './dial.js';
import { registerDlq } from './dlq.js';
import { registerMigrate } from './migrate.js';
import { registerOrg } from './org.js';
import { registerPersister } from './persister.js';
import { registerPool } from './pool.js';
import { registerPrivacy } from './privacy.js';
import { registerReaper } from './reaper.js';
import { registerReconcile } from './reconcile.js';
import { registerRetention } from './retention.js';
import { registerRoute } from './route.js';
import { registerSimulate } from './simulate.js';
import { registerSip } from './sip.js';
import { registerStack } from './stack.js';
import { registerUser } from './user.js';
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
registerRoute(program);
registerPersister(program);
registerDlq(program);
registerRetention(program);
registerReaper(program);
registerReconcile(program);
registerSimulate(program);
registerOrg(program);
registerUser(program);
registerApiKey(program);
registerPrivacy(program);
registerCompliance(program);
for (const pkg of flowPackages) pkg.commands?.(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  // Expected failures (bad config, missing binary, taken port) get one clear line, no stack.
  const e = err as Error;
  const expected =
    e instanceof ConfigError ||
    ['StackError', 'ScriptError', 'UsageError', 'RouteError', 'OutboundRefusedError', 'PiiKeyError'].includes(
      e?.name,
    );
  console.error(`voice-agent: ${expected ? e.message : (e?.stack ?? String(err))}`);
  process.exit(1);
});
