import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { processTree, readStat } from '../../../src/observability/proc-stats.js';
import { sleep } from '../../../src/util/async.js';
import { CliProcess } from '../../helpers/cli-process.js';
import { randomName } from '../persistence/helpers.js';

/**
 * `voice-agent pool` on the real local stack: two `worker start` processes that register
 * with livekit-server, supervised (a worker killed with -9 is restarted and registers again,
 * without leaving its job processes behind), and drained together on SIGTERM. The workers run
 * the process executor, whose job processes are what a pool must not leave behind; a shared
 * executor worker is a single process.
 */

const agentName = randomName('pool-agent').replace(/_/g, '-');
let pool: CliProcess | undefined;
const pools: CliProcess[] = [];

afterAll(async () => {
  // A failed test must not leave workers running: they outlive a killed pool (own groups).
  for (const p of pools) {
    for (const pid of descendants(p.proc.pid!).reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await p.stop('SIGKILL');
  }
});

describe('voice-agent pool', () => {
  it('runs N registered workers, restarts one killed with -9, and drains all on SIGTERM', async () => {
    const base = await freeConsecutivePorts(2);
    pool = new CliProcess(['pool', '--workers', '2', '--http-port', String(base), '--status-interval', '0'], {
      AGENT_NAME: agentName,
      PROVIDER: 'fake',
      LOG_LEVEL: 'info',
      // The process executor: what the pool must clean up after a killed worker is its job processes.
      WORKER_EXECUTOR: 'process',
      WORKER_IDLE_PROCESSES: '1',
      DRAIN_TIMEOUT_SECONDS: '10',
    });
    pools.push(pool);

    // Both register with LiveKit: the pool sees the framework's registration line, and each
    // worker's /healthz reports the worker id LiveKit assigned (distinct ones).
    const first = await registered(pool, 1);
    const second = await registered(pool, 2);
    const ids = [await workerId(base), await workerId(base + 1)];
    for (const id of ids) expect(id).toMatch(/^AW_/);
    expect(new Set(ids).size).toBe(2);
    expect(first).not.toBe(second);
    const leftBehind = descendants(first);
    expect(leftBehind.length).toBeGreaterThan(0); // its warm job process (and inference process)

    // kill -9 one worker: the pool reports it and starts a new one, which registers again.
    process.kill(first, 'SIGKILL');
    await pool.waitFor(new RegExp(`worker 1/2 pid=${first} .*state=restarting.*signal SIGKILL`), 10_000);
    const restarted = await registered(pool, 1, first);
    expect(restarted).not.toBe(first);
    const newId = await workerId(base);
    expect(newId).toMatch(/^AW_/);
    expect(newId).not.toBe(ids[0]);
    expect(await workerId(base + 1)).toBe(ids[1]); // the other worker was not touched
    // the dead worker's job processes did not outlive it
    for (const pid of leftBehind) expect(alive(pid), `process ${pid} of the killed worker`).toBe(false);

    // SIGTERM: forwarded to both, each drains and exits 0, so does the pool. (Wait until the
    // new worker's warm job process has initialized: @livekit/agents 1.9.0 never finishes
    // closing a job process that is still initializing — the next test covers that case.)
    await settled(restarted);
    const restartedChildren = descendants(restarted);
    const code = await pool.stop('SIGTERM', 60_000);
    expect(
      code,
      pool.output
        .split('\n')
        .filter((l) => /pool:|"msg":"(worker stopped|draining)"/.test(l))
        .join('\n'),
    ).toBe(0);
    expect(pool.output).toMatch(/pool: all 2 workers exited\n/);
    expect(pool.output.match(/"msg":"worker stopped"/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    for (const pid of [restarted, second, ...restartedChildren])
      expect(alive(pid), `process ${pid}`).toBe(false);
  }, 180_000);

  it('kills a worker that does not finish draining after --kill-after, leaving no process behind', async () => {
    const base = await freeConsecutivePorts(1);
    const p = new CliProcess(
      ['pool', '--workers', '1', '--http-port', String(base), '--status-interval', '0', '--kill-after', '6'],
      {
        AGENT_NAME: `${agentName}-b`,
        PROVIDER: 'fake',
        LOG_LEVEL: 'info',
        WORKER_EXECUTOR: 'process',
        DRAIN_TIMEOUT_SECONDS: '2',
      },
    );
    pool = p;
    pools.push(p);
    const worker = await registered(p, 1, undefined, 1);
    const children = descendants(worker);
    // SIGTERM at once, while its warm job process may still be initializing: whether or not
    // the worker manages to drain, the pool must be gone shortly after --kill-after.
    const started = Date.now();
    const code = await p.stop('SIGTERM', 30_000);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(code === 0 || (code === 1 && /killing it/.test(p.output)), p.output.slice(-3000)).toBe(true);
    expect(p.output).toMatch(/pool: all 1 workers exited/);
    for (const pid of [worker, ...children]) expect(alive(pid), `process ${pid}`).toBe(false);
  }, 120_000);
});

/** Waits until a worker's job processes exist and sit idle (initialized): ≤ 3 % CPU for 2 s. */
async function settled(worker: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  let before = new Map<number, number>();
  let streak = 0;
  while (Date.now() < deadline) {
    const now = new Map(descendants(worker).map((pid) => [pid, cpuTicks(pid)]));
    const busy = [...now].some(([pid, t]) => !before.has(pid) || t - before.get(pid)! > 3);
    streak = now.size > 0 && !busy ? streak + 1 : 0;
    if (streak >= 2) return;
    before = now;
    await sleep(1000);
  }
  throw new Error(`worker ${worker} did not settle`);
}

const cpuTicks = (pid: number) => readStat(pid)?.ticks ?? 0;

/** Waits for the status line saying worker `n` registered (with a pid other than `not`). */
async function registered(p: CliProcess, n: number, not?: number, of = 2): Promise<number> {
  const deadline = Date.now() + 90_000;
  const pattern = new RegExp(`pool: worker ${n}/${of} pid=(\\d+) port=\\d+ state=registered`, 'g');
  while (Date.now() < deadline) {
    for (const m of p.output.matchAll(pattern)) {
      const pid = Number(m[1]);
      if (pid !== not) return pid;
    }
    if (p.proc.exitCode !== null) break;
    await sleep(200);
  }
  throw new Error(`worker ${n} did not register; output:\n${p.output.slice(-4000)}`);
}

async function workerId(port: number): Promise<string | undefined> {
  const r = await fetch(`http://127.0.0.1:${port}/healthz`);
  expect(r.status).toBe(200);
  return ((await r.json()) as { worker_id?: string }).worker_id;
}

/** Exited counts as dead even while a zombie that its parent has not reaped. */
function alive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/** Every process below `root`, parents before their children. */
const descendants = (root: number) => [...processTree(root).keys()].filter((pid) => pid !== root);

function listen(port: number): Promise<import('node:net').Server | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen(port, '0.0.0.0', () => resolve(srv));
  });
}

/** A port p such that p … p + n − 1 are all free. */
async function freeConsecutivePorts(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const probe = await listen(0);
    const addr = probe?.address();
    const base = typeof addr === 'object' && addr ? addr.port : 0;
    await new Promise((r) => probe?.close(r));
    if (!base || base + n - 1 > 65535) continue;
    const held = await Promise.all(Array.from({ length: n }, (_, i) => listen(base + i)));
    await Promise.all(held.map((s) => new Promise((r) => (s ? s.close(r) : r(undefined)))));
    if (held.every(Boolean)) return base;
  }
  throw new Error('no free consecutive ports');
}
