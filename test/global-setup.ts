import { resolve } from 'node:path';
import { loadConfig } from '../src/config/config.js';
import { LocalStack } from '../src/stack/stack.js';

/**
 * vitest globalSetup: the integration tests need the local stack, so a run brings up the parts
 * that are not running (livekit-server, livekit-sip) and at the end stops only those. A stack
 * somebody else started (`voice-agent stack up`, CI) is used as it is and never stopped.
 */

const PREFIX = '[test stack]';

export async function bringUpStackForRun(
  stack: LocalStack,
  print: (line: string) => void,
): Promise<() => Promise<void>> {
  const started = await stack.startMissing().catch((err: Error) => {
    throw new Error(`${PREFIX} cannot bring up the local stack for the tests: ${err.message}`);
  });
  if (started.length === 0) {
    print(`${PREFIX} using the running local stack`);
    return async () => {};
  }
  print(
    `${PREFIX} started ${started.join(' and ')} for this run (logs in ${stack.paths.logs}); ` +
      'stopped when it ends. `npx voice-agent stack up` keeps the stack between runs.',
  );
  return async () => {
    await stack.stopStarted(started);
  };
}

export default async function setup(): Promise<() => Promise<void>> {
  const root = resolve(import.meta.dirname, '..');
  const cfg = loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
  const print = (line: string) => console.log(line);
  if (process.env.TEST_STACK === 'none') {
    // For runs of unit and database tests only (a second checkout, a quick loop).
    print(`${PREFIX} TEST_STACK=none: not starting livekit; tests that need it will fail`);
    return async () => {};
  }
  const stack = new LocalStack(cfg, root, (line) => print(`${PREFIX} ${line}`));
  return bringUpStackForRun(stack, print);
}
