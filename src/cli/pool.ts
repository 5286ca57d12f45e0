import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';

/**
 * `voice-agent pool --workers N`: N worker processes on one machine, each its own
 * `voice-agent worker start` (its own LiveKit registration, warm job processes and HTTP port
 * HTTP_PORT + i), supervised:
 *
 * - a worker that exits while the pool runs (crash, kill -9, OOM) is restarted, after a
 *   backoff that doubles with each quick failure (1 s, 2 s, 4 s … capped) and resets once a
 *   worker has stayed up for a minute; the job processes it left behind (its process group)
 *   are killed first, so a crashed worker does not leak calls' processes;
 * - SIGTERM / SIGINT is forwarded to every worker as SIGTERM, and each drains (no new calls,
 *   active calls finish within DRAIN_TIMEOUT_SECONDS); the pool exits when all have, with
 *   0 when every worker exited cleanly. A worker still running --kill-after seconds later
 *   (default DRAIN_TIMEOUT_SECONDS + 30) is killed with its job processes — @livekit/agents
 *   1.9.0 can hang for ever closing a warm job process that was still initializing when the
 *   signal came. A second signal kills the workers at once;
 * - a status line per worker (stderr, prefixed `pool:`) on every change and every
 *   --status-interval seconds (pid, port, uptime, restarts, active calls from /healthz).
 *
 * Why several workers on one machine: one worker is one Node.js main process (dispatch, IPC
 * with the job processes); several spread that work and let a worker be restarted without
 * taking every call down. With the shared executor (the default) a worker is one process
 * carrying all its calls on one JavaScript thread, so run about one per core (see
 * docs/BENCHMARKS.md, Capacity).
 */

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

export interface PoolOptions {
  workers: number;
  /** Worker i serves /healthz /readyz /metrics on basePort + i. */
  basePort: number;
  /** Arguments after `node <main.js>` for one worker; default `worker start --http-port <port>`. */
  workerArgs?: (index: number, port: number) => string[];
  env?: NodeJS.ProcessEnv;
  /** First restart delay; doubles per quick failure. Default 1000 ms. */
  restartDelayMs?: number;
  /** Default 30 000 ms. */
  maxRestartDelayMs?: number;
  /** A worker up this long has its backoff reset. Default 60 000 ms. */
  stableAfterMs?: number;
  /**
   * After forwarding SIGTERM, a worker still running this much later is killed (with its job
   * processes). Default DRAIN_TIMEOUT_SECONDS + 30 s, from the CLI.
   */
  killAfterMs?: number;
  /** Periodic status lines; 0 = only on changes. Default 60 000 ms. */
  statusIntervalMs?: number;
  log?: (line: string) => void;
}

type State = 'starting' | 'running' | 'registered' | 'restarting' | 'stopping' | 'exited';

interface Slot {
  index: number;
  port: number;
  proc?: ChildProcess;
  state: State;
  startedAt: number;
  restarts: number;
  /** Consecutive quick failures (drives the backoff). */
  failures: number;
  lastExit?: string;
  exitCode?: number | null;
  timer?: NodeJS.Timeout;
  exited?: Promise<void>;
}

export class WorkerPool {
  readonly slots: Slot[];
  #stopping = false;
  #stopped: Promise<number> | undefined;
  #statusTimer: NodeJS.Timeout | undefined;
  readonly #log: (line: string) => void;

  constructor(readonly options: PoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) throw new Error('--workers must be ≥ 1');
    this.#log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.slots = Array.from({ length: options.workers }, (_, index) => ({
      index,
      port: options.basePort + index,
      state: 'starting' as State,
      startedAt: 0,
      restarts: 0,
      failures: 0,
    }));
  }

  start(): void {
    for (const slot of this.slots) this.#spawn(slot);
    const every = this.options.statusIntervalMs ?? 60_000;
    if (every > 0) {
      this.#statusTimer = setInterval(() => void this.printStatus(), every);
      this.#statusTimer.unref();
    }
  }

  /**
   * Forwards `signal` to every worker and resolves with the pool's exit code once all have
   * exited (0 when each exited with 0). Called again, it kills the workers at once.
   */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
    if (this.#stopped) {
      for (const slot of this.slots) if (slot.proc && isAlive(slot.proc)) killGroup(slot.proc);
      return this.#stopped;
    }
    this.#stopping = true;
    clearInterval(this.#statusTimer);
    for (const slot of this.slots) {
      clearTimeout(slot.timer);
      if (isAlive(slot.proc)) {
        this.#status(slot, 'stopping', `forwarding ${signal}`);
        slot.proc!.kill(signal);
        const proc = slot.proc!;
        const killAfter = this.options.killAfterMs ?? 150_000;
        slot.timer = setTimeout(() => {
          if (!isAlive(proc)) return;
          this.#status(
            slot,
            'stopping',
            `still running ${fmtDuration(killAfter)} after ${signal}: killing it`,
          );
          killGroup(proc);
        }, killAfter);
      } else if (slot.state !== 'exited') {
        this.#status(slot, 'exited', slot.lastExit);
      }
    }
    this.#stopped = (async () => {
      await Promise.all(this.slots.map((s) => s.exited));
      const clean = this.slots.every((s) => s.exitCode === 0);
      this.#log(`pool: all ${this.slots.length} workers exited${clean ? '' : ' (not all cleanly)'}`);
      return clean ? 0 : 1;
    })();
    return this.#stopped;
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  #spawn(slot: Slot): void {
    const args = this.options.workerArgs?.(slot.index, slot.port) ?? [
      'worker',
      'start',
      '--http-port',
      String(slot.port),
    ];
    const proc = spawn(process.execPath, [MAIN, ...args], {
      env: {
        ...(this.options.env ?? process.env),
        HTTP_PORT: String(slot.port),
        POOL_WORKER_INDEX: String(slot.index),
      },
      // Its own process group: the pool forwards signals itself, and can clean up the job
      // processes of a worker that died without stopping them.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    slot.proc = proc;
    slot.startedAt = Date.now();
    slot.exitCode = undefined;
    this.#status(slot, 'starting');
    // Worker logs pass through unchanged (JSON lines on stdout); the pool only watches for
    // the registration line.
    let tail = '';
    const watch = (chunk: Buffer, out: NodeJS.WriteStream) => {
      out.write(chunk);
      if (slot.state !== 'starting') return;
      tail = (tail + chunk.toString()).slice(-4096);
      if (/registered worker/i.test(tail)) {
        tail = '';
        this.#status(slot, 'registered');
      }
    };
    proc.stdout!.on('data', (c: Buffer) => watch(c, process.stdout));
    proc.stderr!.on('data', (c: Buffer) => watch(c, process.stderr));
    slot.exited = new Promise<void>((resolve) => {
      proc.once('exit', (code, signal) => {
        slot.exitCode = code;
        slot.lastExit = signal ? `signal ${signal}` : `code ${code}`;
        clearTimeout(slot.timer);
        // Whatever the worker left behind in its group (job processes of a crashed worker).
        killGroup(proc);
        if (this.#stopping) {
          this.#status(slot, 'exited', slot.lastExit);
          resolve();
          return;
        }
        const upMs = Date.now() - slot.startedAt;
        slot.failures = upMs >= (this.options.stableAfterMs ?? 60_000) ? 0 : slot.failures + 1;
        const delay = Math.min(
          this.options.maxRestartDelayMs ?? 30_000,
          (this.options.restartDelayMs ?? 1000) * 2 ** Math.max(0, slot.failures - 1),
        );
        this.#status(
          slot,
          'restarting',
          `exited (${slot.lastExit}) after ${fmtDuration(upMs)}; restart in ${fmtDuration(delay)}`,
        );
        slot.timer = setTimeout(() => {
          slot.restarts++;
          this.#spawn(slot);
        }, delay);
        resolve();
      });
    });
  }

  #status(slot: Slot, state: State, detail?: string): void {
    slot.state = state;
    this.#log(this.statusLine(slot, detail));
  }

  statusLine(slot: Slot, detail?: string, calls?: number): string {
    const parts = [
      `pool: worker ${slot.index + 1}/${this.slots.length}`,
      `pid=${slot.proc?.pid ?? '-'}`,
      `port=${slot.port}`,
      `state=${slot.state}`,
      `up=${slot.state === 'exited' || slot.state === 'restarting' ? '-' : fmtDuration(Date.now() - slot.startedAt)}`,
      `restarts=${slot.restarts}`,
    ];
    if (calls !== undefined) parts.push(`calls=${calls}`);
    if (detail) parts.push(`— ${detail}`);
    return parts.join(' ');
  }

  /** One status line per worker, with its active calls from /healthz. */
  async printStatus(): Promise<void> {
    for (const slot of this.slots) {
      const health = await fetchHealth(slot.port);
      this.#log(this.statusLine(slot, health?.draining ? 'draining' : undefined, health?.active_calls));
    }
  }
}

/** SIGKILL to a worker's process group (the worker and every process it started). */
function killGroup(proc: ChildProcess): void {
  try {
    process.kill(-proc.pid!, 'SIGKILL');
  } catch {
    // the group is already empty
  }
}

function isAlive(proc: ChildProcess | undefined): boolean {
  return proc !== undefined && proc.exitCode === null && proc.signalCode === null;
}

async function fetchHealth(port: number): Promise<{ active_calls?: number; draining?: boolean } | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
    return (await r.json()) as { active_calls?: number; draining?: boolean };
  } catch {
    return undefined;
  }
}

function fmtDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 120
    ? `${m}m${String(s % 60).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function registerPool(program: Command): void {
  program
    .command('pool')
    .description(
      'run N workers on this machine (ports HTTP_PORT+i), restart any that dies, drain all on SIGTERM',
    )
    .requiredOption('--workers <n>', 'number of worker processes', (v) => Number(v))
    .option('--http-port <port>', 'health/metrics port of the first worker (default HTTP_PORT)', (v) =>
      Number(v),
    )
    .option(
      '--status-interval <s>',
      'print a status line per worker every s seconds (0 = off)',
      (v) => Number(v),
      60,
    )
    .option('--max-restart-delay <s>', 'cap of the restart backoff, seconds', (v) => Number(v), 30)
    .option(
      '--kill-after <s>',
      'on SIGTERM, kill a worker still running after s seconds (default DRAIN_TIMEOUT_SECONDS + 30)',
      (v) => Number(v),
    )
    .action(
      async (opts: {
        workers: number;
        httpPort?: number;
        statusInterval: number;
        maxRestartDelay: number;
        killAfter?: number;
      }) => {
        const cfg = loadConfig(); // fail here, once, rather than in N workers
        const basePort = opts.httpPort ?? cfg.HTTP_PORT;
        if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new Error('--workers must be ≥ 1');
        if (basePort + opts.workers - 1 > 65535) throw new Error('--http-port + --workers exceeds 65535');
        const pool = new WorkerPool({
          workers: opts.workers,
          basePort,
          statusIntervalMs: opts.statusInterval * 1000,
          maxRestartDelayMs: opts.maxRestartDelay * 1000,
          killAfterMs: (opts.killAfter ?? cfg.DRAIN_TIMEOUT_SECONDS + 30) * 1000,
        });
        pool.start();
        const code = await new Promise<number>((resolve) => {
          const onSignal = (signal: NodeJS.Signals) => {
            if (pool.stopping) process.stderr.write(`pool: ${signal} again — killing the workers\n`);
            else process.stderr.write(`pool: ${signal} — draining ${opts.workers} workers\n`);
            void pool.stop('SIGTERM').then(resolve);
          };
          process.on('SIGTERM', () => onSignal('SIGTERM'));
          process.on('SIGINT', () => onSignal('SIGINT'));
        });
        process.exit(code);
      },
    );
}
