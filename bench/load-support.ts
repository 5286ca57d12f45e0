/** bench:load's plumbing: child processes, progress lines, the worker's process tree, lag probes, small maths. */

import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { cmdline, type ProcStat, processTicks, processTree } from '../src/observability/proc-stats.js';
import { sleep } from '../src/util/async.js';
import type { ProbeSample } from './lag-probe.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url)); // dist/bench → repository root
export const CLI = join(ROOT, 'dist/src/cli/main.js');
export const PROBE = fileURLToPath(new URL('./lag-probe.js', import.meta.url));
export const FIXTURES = join(ROOT, 'test/fixtures/audio/16k');
/** The call's clock (dispatch metadata): a Wednesday morning in business hours. */
export const CALL_NOW = '2025-03-05T15:00:00Z';
/** What callers say: the booking opening, then corrections in a loop (see providers/fake/load-test.ts). */
export const OPENING = [
  'greet-book',
  'name-john-smith',
  'date-next-tuesday',
  'time-three-thirty',
  'phone-slt',
];
export const LOOP = [
  'no-wednesday',
  'var-thursday-instead',
  'date-friday-twelfth',
  'time-two-oclock',
  'monday-afternoon',
];
export const REPLY_TIMEOUT_MS = 15_000;
/** A job process that used less CPU than this over a window carried no call, whatever its rank. */
export const ACTIVE_CPU_SHARE = 0.01;
/** A job process using at most this many CPU ticks in a second (2 % of a core) is idle. */
export const WARM_IDLE_TICKS_PER_SECOND = 2;
/** Memory the benchmark leaves to everything else on the machine. */
export const MEMORY_RESERVE_KB = 3 * 2 ** 20;

// ---------------------------------------------------------------- helpers

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const median = (values: number[]) => (values.length ? percentile(values, 50) : null);

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** A child process with its output kept (tail) for diagnostics. */
export class Child {
  readonly proc: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    readonly logFile: string,
  ) {
    // Its own process group, so stop() can take the job processes down with a stuck worker.
    this.proc = spawn(process.execPath, [CLI, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const log = createWriteStream(logFile);
    this.exited = new Promise((resolve) => this.proc.on('exit', (code) => resolve(code)));
    void this.exited.then(() => log.end());
    const onData = (d: Buffer) => {
      log.write(d);
      if (this.output.length < 400_000) this.output += d.toString(); // enough to find the start-up lines
    };
    this.proc.stdout!.on('data', onData);
    this.proc.stderr!.on('data', onData);
  }

  get pid(): number {
    return this.proc.pid!;
  }

  async waitFor(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (pattern.test(this.output)) return;
      if (this.proc.exitCode !== null) break;
      await sleep(100);
    }
    throw new Error(`${this.name}: timed out waiting for ${pattern}; output:\n${this.output.slice(-3000)}`);
  }

  async stop(timeoutMs = 30_000): Promise<number | null> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.proc.exitCode;
    this.proc.kill('SIGTERM');
    // @livekit/agents 1.9.0 can hang for ever closing a job process that was still
    // initializing when SIGTERM came: kill the whole group after the timeout.
    const timer = setTimeout(() => {
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch {
        this.proc.kill('SIGKILL');
      }
    }, timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    try {
      process.kill(-this.pid, 'SIGKILL'); // anything it left behind
    } catch {
      // none
    }
    return code;
  }
}

/** One line per step on stderr, rewritten in place on a terminal. */
export class Progress {
  readonly #tty = process.stderr.isTTY === true;
  #line = '';
  #printedAt = 0;

  update(line: string): void {
    this.#line = line;
    if (this.#tty) process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 160) - 1)}`);
    else if (performance.now() - this.#printedAt > 15_000) {
      // not a terminal (a log file, CI): a line now and then shows where the run is
      this.#printedAt = performance.now();
      process.stderr.write(`  … ${line}\n`);
    }
  }

  done(line: string): void {
    if (this.#tty) process.stderr.write(`\r\x1b[2K${line}\n`);
    else process.stderr.write(`${line}\n`);
    this.#line = '';
  }

  note(text: string): void {
    if (this.#tty && this.#line) process.stderr.write('\r\x1b[2K');
    process.stderr.write(`${text}\n`);
    if (this.#tty && this.#line) this.update(this.#line);
  }
}

// ---------------------------------------------------------------- worker tree

export interface TreeView {
  main: number;
  jobs: number[];
  inference: number[];
  /** pid → the job process it belongs to (speech helpers of --local). */
  owner: Map<number, number>;
}

export function classify(tree: Map<number, ProcStat>, root: number): TreeView {
  const view: TreeView = { main: root, jobs: [], inference: [], owner: new Map() };
  for (const [pid, s] of tree) {
    if (pid === root) continue;
    const cmd = cmdline(pid);
    if (cmd.includes('job_proc_lazy_main')) view.jobs.push(pid);
    else if (cmd.includes('inference_proc_lazy_main')) view.inference.push(pid);
    else {
      // a descendant of a job process (e.g. a pocketsphinx or flite helper in --local)
      let p = s.ppid;
      while (p && p !== root && !view.jobs.includes(p) && tree.has(p)) p = tree.get(p)!.ppid;
      view.owner.set(pid, p);
    }
  }
  for (const [pid, owner] of view.owner) {
    if (!view.jobs.includes(owner)) view.owner.delete(pid);
  }
  return view;
}

export async function waitForWarm(
  workerPid: number,
  want: number,
  timeoutMs: number,
  cancelled: () => boolean,
  onProgress: (n: number) => void,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  let previous = processTree(workerPid);
  let streak = 0;
  while (performance.now() < deadline && !cancelled()) {
    await sleep(1000);
    const tree = processTree(workerPid);
    let warm = 0;
    for (const pid of tree.keys()) {
      if (!previous.has(pid) || !cmdline(pid).includes('job_proc_lazy_main')) continue;
      if (processTicks(previous, tree, pid) <= WARM_IDLE_TICKS_PER_SECOND) warm++;
    }
    previous = tree;
    onProgress(Math.min(warm, want));
    streak = warm >= want ? streak + 1 : 0;
    if (streak >= 2) return true;
  }
  return false;
}

export function readLag(dir: string, epoch: string): ProbeSample[] {
  const out: ProbeSample[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith(`.${epoch}.json`)) continue;
    try {
      out.push(JSON.parse(readFileSync(join(dir, f), 'utf8')) as ProbeSample);
    } catch {
      // being written: skip
    }
  }
  return out;
}

export async function deleteQueue(redisUrl: string, queue: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const keys = await redis.keys(`bull:${queue}*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

export const round = (v: number, digits: number) =>
  Number.isFinite(v) ? Number(v.toFixed(digits)) : Number.NaN;
export const nullableRound = (v: number | null, digits: number) => (v === null ? null : round(v, digits));
export const pct = (part: number, whole: number) => (whole > 0 ? (part / whole) * 100 : Number.NaN);
export const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '-');
