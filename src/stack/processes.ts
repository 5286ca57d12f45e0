import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../util/async.js';
import { cmdline, isAlive } from '../util/process.js';

/**
 * Pid-file bookkeeping for the processes `voice-agent stack` starts, so `down` only ever
 * stops what `up` started and never a server somebody else runs on the same port.
 */
export interface StackPaths {
  root: string;
  bin: string;
  logs: string;
  run: string;
}

export function stackPaths(stackDir: string): StackPaths {
  return {
    root: stackDir,
    bin: join(stackDir, 'bin'),
    logs: join(stackDir, 'logs'),
    run: join(stackDir, 'run'),
  };
}

/** The pid we recorded for `name`, if that process is still alive and still ours. */
export function ownedPid(paths: StackPaths, name: string, expectInCmdline: string): number | undefined {
  const file = join(paths.run, `${name}.pid`);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && cmdline(pid).includes(expectInCmdline)) return pid;
  rmSync(file, { force: true }); // stale: the process died or the pid was reused
  return undefined;
}

/** Starts a detached background process logging to logs/<name>.log and records its pid. */
export function startDetached(
  paths: StackPaths,
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): number {
  mkdirSync(paths.logs, { recursive: true });
  mkdirSync(paths.run, { recursive: true });
  const logFile = join(paths.logs, `${name}.log`);
  const out = openSync(logFile, 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out], env });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  child.unref();
  writeFileSync(join(paths.run, `${name}.pid`), String(child.pid));
  return child.pid;
}

export async function stopPid(pid: number, graceMs = 5000): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export function forgetPid(paths: StackPaths, name: string): void {
  rmSync(join(paths.run, `${name}.pid`), { force: true });
}
