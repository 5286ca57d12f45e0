import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from '../util/async.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/**
 * A `voice-agent` subcommand the demo runs in the background (worker, persister): its output
 * goes to a log file, and the demo can wait for a line that says it is ready.
 */
export class BackgroundService {
  readonly proc: ChildProcess;
  readonly logPath: string;
  #recent = '';

  constructor(name: string, args: string[], env: Record<string, string>, logDir: string) {
    mkdirSync(logDir, { recursive: true });
    this.logPath = join(logDir, `${name}.log`);
    const log = createWriteStream(this.logPath, { flags: 'a' });
    this.proc = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (d: Buffer) => {
      log.write(d);
      this.#recent = (this.#recent + d.toString()).slice(-200_000);
    };
    this.proc.stdout!.on('data', onData);
    this.proc.stderr!.on('data', onData);
  }

  async waitFor(pattern: RegExp, what: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (pattern.test(this.#recent)) return;
      if (this.proc.exitCode !== null) break;
      await sleep(100);
    }
    throw Object.assign(new Error(`${what} did not start; see ${this.logPath}`), { name: 'UsageError' });
  }

  /** SIGTERM (graceful: drains and flushes), SIGKILL after the timeout. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
