import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker as Thread } from 'node:worker_threads';
import { initializeLogger } from '@livekit/agents';
import { percentile } from '../src/pipeline/latency-meter.js';
import { sleep } from '../src/util/async.js';

/**
 * Job execution model of @livekit/agents 1.9 (JS), measured with the framework's own classes.
 *
 * The JS framework has exactly one job executor: JobProcExecutor, a child process forked from
 * ipc/job_proc_lazy_main.js per job (never reused: it exits when its job ends), managed by
 * ProcPool. ServerOptions.numIdleProcesses sets how many such processes ProcPool keeps forked
 * and initialized (agent module imported, prewarm run) ahead of jobs; with 0 every job forks
 * its own on arrival. There is no thread executor and no JobExecutorType option (the Python
 * framework's THREAD type has no JS counterpart); the `thread` rows below are a reference
 * measurement with plain worker_threads, not something the framework can run.
 *
 * Per agent module (trivial: framework floor; real: src/worker/agent.ts's import graph and
 * prewarm with a probe entry), it measures:
 * - spawn → ready: JobProcExecutor start() + initialize() (fork, import, prewarm, handshake);
 * - job start, cold: ProcPool(numIdleProcesses 0).launchJob → the entry function runs;
 * - job start, warm: ProcPool(numIdleProcesses N).launchJob with processes ready → entry;
 * - memory of N idle warm processes side by side and of a process running a job:
 *   RSS, PSS (shared pages divided among sharers) and USS (private: what one more costs).
 *
 *   npm run bench:executors
 *   node dist/bench/executors.js --runs 10 --pool 4 [--agents trivial,real] [--no-threads] [--json]
 */

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    pool: { type: 'string', default: '4' },
    agents: { type: 'string', default: 'trivial,real' },
    'no-threads': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
const POOL = Number(args.pool);

// ---- framework internals (not exported by the package; loaded from its dist by file URL) --

interface Executor {
  proc?: ChildProcess;
  start(): Promise<void>;
  initialize(options: { sessionEndTimeout: number }): Promise<void>;
  join(): Promise<void>;
  close(): Promise<void>;
}
interface ProcPool {
  start(): void;
  close(): Promise<void>;
  launchJob(info: unknown): Promise<void>;
  getByJobId(id: string): Executor | null;
  warmedProcQueue: { items: { proc: Executor }[] };
}
const PROC_OPTS = {
  initializeTimeout: 60_000,
  closeTimeout: 10_000,
  memoryWarnMB: 0,
  memoryLimitMB: 0,
  pingInterval: 2500,
  pingTimeout: 60_000,
  highPingThreshold: 500,
};
const SESSION_END_TIMEOUT = 60_000;

const agentsDist = dirname(createRequire(import.meta.url).resolve('@livekit/agents'));
const internal = async <T>(file: string, name: string): Promise<T> =>
  ((await import(pathToFileURL(join(agentsDist, file)).href)) as Record<string, T>)[name]!;
const JobProcExecutor = await internal<new (o: object) => Executor>(
  'ipc/job_proc_executor.js',
  'JobProcExecutor',
);
const ProcPoolClass = await internal<new (o: object) => ProcPool>('ipc/proc_pool.js', 'ProcPool');

// ---- measurement helpers ---------------------------------------------------------------------

const now = () => performance.timeOrigin + performance.now();
const here = dirname(fileURLToPath(import.meta.url));
const agentPath = (name: string) => join(here, 'executor-agents', `${name}.js`);

interface Memory {
  rss: number;
  pss: number;
  uss: number;
}

/** MB from /proc/<pid>/smaps_rollup (Linux ≥ 4.14). */
function memory(pid: number): Memory {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return {
    rss: kb('Rss') / 1024,
    pss: kb('Pss') / 1024,
    uss: (kb('Private_Clean') + kb('Private_Dirty')) / 1024,
  };
}

/** CPU time (user + system) a process has used, ms (10 ms resolution: USER_HZ = 100). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

function meanMemory(list: Memory[]): Memory {
  const avg = (k: keyof Memory) => list.reduce((s, m) => s + m[k], 0) / list.length;
  return { rss: avg('rss'), pss: avg('pss'), uss: avg('uss') };
}

let jobSeq = 0;
function jobInfo(): { info: unknown; id: string } {
  const id = `AJ_bench_${++jobSeq}`;
  return {
    id,
    info: {
      acceptArguments: { name: 'bench', identity: 'bench-agent', metadata: '' },
      job: { id, agentName: 'bench', room: { sid: 'RM_bench', name: 'bench-room' }, enableRedaction: false },
      url: 'ws://127.0.0.1:7880',
      token: '',
      workerId: 'bench',
    },
  };
}

/** Polls the probe (executor-agents/probe.ts) until the entry has run; returns when it did. */
async function enteredAt(proc: ChildProcess, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  return new Promise<number>((resolve, reject) => {
    const onMessage = (msg: { case?: string; value?: { enteredAt: number | null } }) => {
      if (msg?.case === 'benchPong' && msg.value?.enteredAt) {
        clearInterval(timer);
        proc.off('message', onMessage);
        resolve(msg.value.enteredAt);
      }
    };
    proc.on('message', onMessage);
    const timer = setInterval(() => {
      if (Date.now() > deadline) {
        clearInterval(timer);
        proc.off('message', onMessage);
        reject(new Error('job entry did not run'));
      } else if (proc.connected) proc.send({ case: 'benchPing' });
    }, 1);
  });
}

async function endJob(executor: Executor): Promise<void> {
  executor.proc?.send({ case: 'benchEnd' });
  await executor.join();
}

// ---- the measurements ------------------------------------------------------------------------

interface Result {
  agent: string;
  readyMs: number[];
  /** CPU the process burnt until ready: unlike wall time, barely affected by other load. */
  readyCpuMs: number[];
  coldStartMs: number[];
  warmStartMs: number[];
  idle: Memory;
  inJob: Memory;
}

/** spawn → ready of a lone JobProcExecutor, RUNS times: wall time and CPU time. */
async function spawnToReady(agent: string): Promise<{ wall: number[]; cpu: number[] }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const ex = new JobProcExecutor({ agent: agentPath(agent), ...PROC_OPTS });
    const t0 = now();
    await ex.start();
    await ex.initialize({ sessionEndTimeout: SESSION_END_TIMEOUT });
    wall.push(now() - t0);
    cpu.push(cpuMs(ex.proc!.pid!));
    await ex.close();
  }
  return { wall, cpu };
}

/** launchJob → entry without warm processes (the pool forks on demand), RUNS times. */
async function coldStarts(agent: string): Promise<number[]> {
  const pool = new ProcPoolClass({
    agent: agentPath(agent),
    numIdleProcesses: 0,
    initializeTimeout: 60_000,
    closeTimeout: 10_000,
    sessionEndTimeout: SESSION_END_TIMEOUT,
    memoryWarnMB: 0,
    memoryLimitMB: 0,
  });
  pool.start();
  const times: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const { info, id } = jobInfo();
      const t0 = now();
      await pool.launchJob(info);
      const ex = pool.getByJobId(id)!;
      times.push((await enteredAt(ex.proc!)) - t0);
      await endJob(ex);
    }
  } finally {
    await pool.close();
  }
  return times;
}

/** A pool of POOL warm processes: their idle memory, then RUNS warm job starts. */
async function warmPool(agent: string): Promise<{ times: number[]; idle: Memory; inJob: Memory }> {
  const pool = new ProcPoolClass({
    agent: agentPath(agent),
    numIdleProcesses: POOL,
    initializeTimeout: 60_000,
    closeTimeout: 10_000,
    sessionEndTimeout: SESSION_END_TIMEOUT,
    memoryWarnMB: 0,
    memoryLimitMB: 0,
  });
  const warm = async () => {
    const deadline = Date.now() + 120_000;
    while (pool.warmedProcQueue.items.length < POOL) {
      if (Date.now() > deadline) throw new Error('pool did not warm up');
      await sleep(20);
    }
    await sleep(500); // let the processes settle (lazy allocations after the handshake)
  };
  pool.start();
  const times: number[] = [];
  const inJob: Memory[] = [];
  try {
    await warm();
    const idle = meanMemory(pool.warmedProcQueue.items.map((e) => memory(e.proc.proc!.pid!)));
    for (let i = 0; i < RUNS; i++) {
      await warm(); // the pool replaces the process each job consumed
      const { info, id } = jobInfo();
      const t0 = now();
      await pool.launchJob(info);
      const ex = pool.getByJobId(id)!;
      times.push((await enteredAt(ex.proc!)) - t0);
      inJob.push(memory(ex.proc!.pid!));
      await endJob(ex);
    }
    // @livekit/agents 1.9.0 waits out closeTimeout on a process still initializing: let the
    // refill finish so close() is quick.
    await warm();
    return { times, idle, inJob: meanMemory(inJob) };
  } finally {
    await pool.close();
  }
}

interface ThreadResult {
  agent: string;
  readyMs: number[];
  perThread?: Memory;
  error?: string;
}

/** Reference: POOL worker threads loading the agent; ready times and the process's growth. */
async function threads(agent: string): Promise<ThreadResult> {
  const before = memory(process.pid);
  const started: Thread[] = [];
  const readyMs: number[] = [];
  try {
    for (let i = 0; i < POOL; i++) {
      const t0 = now();
      const t = new Thread(join(here, 'executor-agents', 'thread.js'), {
        workerData: { agentPath: pathToFileURL(agentPath(agent)).href },
      });
      started.push(t);
      const ready = await new Promise<number>((resolve, reject) => {
        t.once('message', (m: { ready: number }) => resolve(m.ready));
        t.once('error', reject);
        t.once('exit', (code) => reject(new Error(`thread exited with code ${code}`)));
      });
      readyMs.push(ready - t0);
    }
    await sleep(500);
    const after = memory(process.pid);
    const per = (k: keyof Memory) => (after[k] - before[k]) / POOL;
    return { agent, readyMs, perThread: { rss: per('rss'), pss: per('pss'), uss: per('uss') } };
  } catch (err) {
    return { agent, readyMs, error: (err as Error).message.split('\n')[0] };
  } finally {
    await Promise.all(started.map((t) => t.terminate()));
  }
}

// ---- report ------------------------------------------------------------------------------------

const ms = (v: number[]) =>
  `${percentile(v, 50)!.toFixed(0)} / ${percentile(v, 95)!.toFixed(0)} / ${Math.max(...v).toFixed(0)}`;
const mb = (m: Memory) => `${m.rss.toFixed(0)} / ${m.pss.toFixed(0)} / ${m.uss.toFixed(0)}`;

async function main(): Promise<void> {
  // Job processes inherit this level; at 'warn' the framework's event-loop monitor floods
  // stderr whenever the host is busy.
  initializeLogger({ pretty: false, level: 'error' });
  const agents = args.agents.split(',').map((a) => a.trim());
  const results: Result[] = [];
  const threadResults: ThreadResult[] = [];
  for (const agent of agents) {
    process.stderr.write(`${agent}: spawn → ready …\n`);
    const ready = await spawnToReady(agent);
    process.stderr.write(`${agent}: cold job starts …\n`);
    const coldStartMs = await coldStarts(agent);
    process.stderr.write(`${agent}: warm pool of ${POOL} …\n`);
    const warmRun = await warmPool(agent);
    results.push({
      agent,
      readyMs: ready.wall,
      readyCpuMs: ready.cpu,
      coldStartMs,
      warmStartMs: warmRun.times,
      idle: warmRun.idle,
      inJob: warmRun.inJob,
    });
  }
  if (!args['no-threads']) {
    for (const agent of agents) {
      process.stderr.write(`${agent}: worker_threads reference …\n`);
      threadResults.push(await threads(agent));
    }
  }

  if (args.json) {
    console.log(JSON.stringify({ runs: RUNS, pool: POOL, results, threads: threadResults }, null, 2));
    return;
  }
  console.log(
    `\n@livekit/agents 1.9 job executors — ${RUNS} runs, pool of ${POOL}, ${availableParallelism()} CPUs, Node ${process.version}`,
  );
  console.log(`load average at the end: ${loadavg()[0]!.toFixed(1)}`);
  console.log('times: p50 / p95 / max ms; memory: RSS / PSS / USS MB per process\n');
  console.log(
    '| agent | executor | spawn → ready | CPU to ready | job start, cold | job start, warm | idle (warm) | running a job |',
  );
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    const cells = [
      ms(r.readyMs),
      ms(r.readyCpuMs),
      ms(r.coldStartMs),
      ms(r.warmStartMs),
      mb(r.idle),
      mb(r.inJob),
    ];
    console.log(`| ${r.agent} | process | ${cells.join(' | ')} |`);
  }
  for (const t of threadResults) {
    const memoryCell = t.perThread ? mb(t.perThread) : '–';
    const readyCell = t.readyMs.length ? ms(t.readyMs) : '–';
    const failed = t.error ? ` failed: ${t.error}` : '';
    console.log(
      `| ${t.agent} | thread (reference, not offered) | ${readyCell} | – | – | – | ${memoryCell} | – |${failed}`,
    );
  }
}

await main();
// Native handles (rtc-node FFI, onnxruntime) of the thread reference can keep the loop alive.
process.exit(0);
