/**
 * Capacity benchmark: how many concurrent calls does one worker carry on this machine, and
 * what does each cost?
 *
 *   npm run bench:load                      # build, then node dist/bench/load.js
 *   node dist/bench/load.js --quick         # steps 1,2,4 with short windows (~3 min)
 *   node dist/bench/load.js --steps 1,10,20,40 --window 30 [--executor shared|process] [--workers N] [--local] [--json] [--no-stop] [--profile]
 *
 * It starts, as operators do, `voice-agent worker start` processes (one, or --workers N;
 * WORKER_EXECUTOR from --executor: every call in the worker, or a job process per call; PROVIDER=fake: instant
 * fake STT/TTS, everything else real — VAD, turn detection, engine, events; `--local` runs
 * the offline pocketsphinx/flite providers instead) and one `voice-agent persister`, in a
 * scratch database and queue. Then it ramps K concurrent calls against the local LiveKit
 * server: each call is a room, an explicit dispatch of the agent, and a caller (LoadCaller)
 * that speaks recorded utterances (test/fixtures/audio/16k) in turns — utterance, wait for
 * the reply, a short pause — for as long as the step lasts. Calls started for one step keep
 * running through the next steps.
 *
 * Per step, over a measurement window after the ramp:
 * - CPU: the worker's process tree (worker, every job process, their children) from
 *   /proc/<pid>/stat, per call (% of one core) — plus the benchmark process (the callers'
 *   WebRTC) and livekit-server, which share the machine;
 * - memory: RSS and PSS of the job processes carrying calls, per call; the worker's own RSS;
 *   warm idle processes and the framework's inference process separately;
 * - event-loop lag p99 in the job processes and the worker (a probe preloaded with
 *   NODE_OPTIONS, see lag-probe.ts) and in the benchmark process;
 * - voice-to-voice as the caller hears it: last voiced sample of an utterance sent → first
 *   loud agent frame. It includes the turn endpointing the agent waits for on purpose (silero
 *   end of speech after 550 ms of silence + 500 ms minimum endpointing delay), the room's
 *   transport both ways and the jitter buffers;
 * - audio quality of what the caller receives: late frames (the heard stream stalled more than
 *   80 ms), gaps inside agent replies, and WebRTC receive stats (packets lost, concealed
 *   samples = audio the jitter buffer had to invent because a packet was missing or late).
 * The capacity figure is the largest K (steps in order) whose v2v p95 stays within 50 ms of
 * the one-call figure. The ramp stops at saturation (a call not answered, > 10 % of replies
 * timing out, v2v p95 above 3× one call) unless --no-stop, and starts no step after
 * --max-minutes. Results: docs/BENCHMARKS.md, "Capacity (bench:load)".
 */

import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { loadConfig } from '../src/config/config.js';
import {
  CLOCK_TICKS_PER_SECOND,
  findProcess,
  machineCpu,
  memAvailableKb,
  type ProcStat,
  processTicks,
  processTree,
  readMemory,
  readStat,
  treeTicks,
} from '../src/observability/proc-stats.js';
import { dropDatabase } from '../src/persistence/db.js';
import { migrateUp } from '../src/persistence/migrate.js';
import { sleep } from '../src/util/async.js';
import { audioDelta, CallPool, loadUtterance } from './load-calls.js';
import { comparison, type RunSummary, report, V2V_TOLERANCE_MS } from './load-report.js';
import {
  ACTIVE_CPU_SHARE,
  Child,
  classify,
  deleteQueue,
  fmt,
  freePort,
  LOOP,
  MEMORY_RESERVE_KB,
  median,
  nullableRound,
  OPENING,
  PROBE,
  Progress,
  pct,
  percentile,
  readLag,
  round,
  waitForWarm,
} from './load-support.js';

import type { Options, PipelinePath, StepResult } from './load-types.js';

// ---------------------------------------------------------------- main

/**
 * Phase 1 of a run: the persister and the worker(s), as operators start them, with the
 * benchmark's environment (scratch database and queue, PIPELINE_PATH, lag probe).
 */
async function startProcesses(
  o: Options,
  env: NodeJS.ProcessEnv,
  scratch: string,
  lagDir: string,
  maxK: number,
): Promise<{ persister: Child; workers: Child[] }> {
  const httpPort = await freePort();
  const persister = new Child('persister', ['persister'], env, join(scratch, 'persister.log'));
  const extraPorts = await Promise.all(Array.from({ length: o.workers - 1 }, () => freePort()));
  const workers = [httpPort, ...extraPorts].map(
    (port, n) =>
      new Child(
        `worker ${n + 1}`,
        ['worker', 'start', '--http-port', String(port)],
        {
          ...env,
          MAX_CONCURRENT_CALLS: String(maxK + 10),
          WORKER_IDLE_PROCESSES: String(o.idle),
          WORKER_EXECUTOR: o.executor,
          PIPELINE_PATH: o.path,
          MAX_CALL_SECONDS: '3600',
          DRAIN_TIMEOUT_SECONDS: '15',
          // Report only calls / MAX_CONCURRENT_CALLS as load: the 1-minute load average of a shared
          // 2-core machine would mark the worker full (LiveKit then dispatches nothing) long before
          // the ramp reaches its steps. MAX_CONCURRENT_CALLS still applies.
          WORKER_LOAD_INCLUDE_CPU: 'false',
          ...(o.profile ? { BENCH_CPU_PROFILE: '1' } : {}),
          LAG_PROBE_DIR: lagDir,
          NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(PROBE).href}`.trim(),
        },
        join(scratch, n === 0 ? 'worker.log' : `worker-${n + 1}.log`),
      ),
  );
  return { persister, workers };
}

async function main(o: Options): Promise<RunSummary> {
  const cfg = loadConfig({ ...process.env, LOG_LEVEL: 'warn' });
  const runId = randomBytes(3).toString('hex');
  const progress = new Progress();
  const maxK = Math.max(...o.steps);
  const utterances = {
    opening: OPENING.map(loadUtterance),
    loop: LOOP.map(loadUtterance),
  };

  const dbUrl = (() => {
    const u = new URL(cfg.DATABASE_URL);
    u.pathname = `/va_bench_load_${runId}`;
    return u.toString();
  })();
  const queue = `bench-load-${runId}`;
  const agentName = `bench-load-${runId}`;
  const scratch = mkdtempSync(join(tmpdir(), 'va-bench-load-'));
  const lagDir = join(scratch, 'lag');
  mkdirSync(lagDir);
  writeFileSync(join(lagDir, 'epoch'), 'setup');
  const provider = o.local ? 'local' : 'fake';

  progress.note(
    `bench:load — executor ${o.executor}, path ${o.path}${o.workers > 1 ? ` × ${o.workers} workers` : ''}, provider ${provider}, steps ${o.steps.join(',')}, window ${o.windowS} s (one call: ${o.baselineWindowS} s), ` +
      `${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`,
  );
  await migrateUp(dbUrl);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: dbUrl,
    EVENT_QUEUE: queue,
    EVENT_JOURNAL_DIR: join(scratch, 'journal'),
    AGENT_NAME: agentName,
    PROVIDER: provider,
    LOG_LEVEL: 'info',
  };
  const { persister, workers } = await startProcesses(o, env, scratch, lagDir, maxK);
  const worker = workers[0]!;
  const workerPids = () => workers.map((w) => w.pid);
  /** Every worker's process tree, as one. */
  const trees = () => new Map(workerPids().flatMap((pid) => [...processTree(pid)]));
  const pool = new CallPool(cfg, agentName, runId, utterances);
  const results: StepResult[] = [];
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    progress.note('interrupted: stopping calls and processes');
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Tens of WebRTC rooms in one process: a stray rejection must not end the run without cleanup.
  let stray = 0;
  const onStray = (err: unknown) => {
    if (stray++ < 5) progress.note(`ignored error in a call: ${(err as Error)?.message ?? String(err)}`);
  };
  process.on('unhandledRejection', onStray);
  process.on('uncaughtException', onStray);

  const runStart = performance.now();
  let stoppedBecause: string | undefined;
  const benchLag = monitorEventLoopDelay({ resolution: 10 });
  benchLag.enable();
  const livekitPid = findProcess(/livekit-server/);
  let baseTreeRssKb = 0;
  const shared = o.executor === 'shared';

  try {
    await persister.waitFor(/persister started/, 30_000);
    for (const w of workers) await w.waitFor(/registered worker/i, 60_000);
    await waitForWarm(
      worker.pid,
      o.idle,
      90_000,
      () => interrupted,
      (n) => progress.update(`warming job processes: ${n}/${o.idle}`),
    );
    await sleep(2000);
    baseTreeRssKb = [...trees().keys()].reduce((sum, pid) => sum + (readMemory(pid)?.rssKb ?? 0), 0);

    const m: RunContext = {
      o,
      progress,
      pool,
      lagDir,
      worker,
      workerPids,
      trees,
      livekitPid,
      benchLag,
      baseTreeRssKb: () => baseTreeRssKb,
      interrupted: () => interrupted,
    };
    for (const [i, k] of o.steps.entries()) {
      if (interrupted) break;
      if (performance.now() - runStart > o.maxMinutes * 60_000) {
        progress.note(`stopping before K=${k}: the run has taken more than --max-minutes ${o.maxMinutes}`);
        stoppedBecause = `time limit before K=${k}`;
        break;
      }
      const label = `K=${String(k).padStart(3)}`;
      const t0 = performance.now();
      const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
      // ramp: wait for warm processes, then start the new calls a little apart
      const toAdd = k - pool.calls.size;
      // This is a shared machine: do not ramp into the OOM killer.
      // job process (or the call's share of the shared worker), caller, LiveKit's share, with margin
      const perCallKb = (shared ? 120 : 400) * 1024;
      if (memAvailableKb() - toAdd * perCallKb < MEMORY_RESERVE_KB) {
        progress.note(
          `stopping before K=${k}: ${toAdd} more calls at ~${(perCallKb / 1024).toFixed(0)} MB would leave < ${MEMORY_RESERVE_KB / 2 ** 20} GiB available`,
        );
        stoppedBecause = `memory before K=${k}`;
        break;
      }
      for (let n = 0; n < toAdd && !interrupted; n++) {
        pool.start();
        progress.update(`${label}  ramp: started ${pool.calls.size}/${k}, answered ${pool.up}  ${elapsed()}`);
        await sleep(o.staggerMs);
      }
      const rampDeadline = performance.now() + 60_000;
      while (!interrupted && pool.up < k && performance.now() < rampDeadline) {
        progress.update(`${label}  ramp: ${pool.up}/${k} calls answered  ${elapsed()}`);
        await sleep(500);
      }
      // let the pool refill, so no process start falls into the window
      let warmAtStart = 0;
      if (!shared)
        await waitForWarm(
          worker.pid,
          o.idle,
          45_000,
          () => interrupted,
          (n) => {
            warmAtStart = n;
            progress.update(
              `${label}  ${pool.up}/${k} calls up, warm processes ${n}/${o.idle}  ${elapsed()}`,
            );
          },
        );
      await sleep(o.settleS * 1000);
      if (interrupted) break;

      const result = await measureStep(m, { i, k, t0, label, elapsed, warmAtStart });
      if (!result) break;
      result.cpu.otherCores = round(
        Math.max(
          0,
          (result.cpu.machineBusyPct / 100) * cpus().length -
            result.cpu.workerTreeCores -
            result.cpu.benchCores -
            (result.cpu.livekitCores ?? 0),
        ),
        2,
      );
      const base = results[0] ?? result;
      result.withinV2vTolerance = result.v2v.p95Ms <= base.v2v.p95Ms + V2V_TOLERANCE_MS;
      results.push(result);
      const saturated = saturation(result, base);
      progress.done(
        `${label}  up ${result.callsUp}  cpu/call ${result.cpu.perCallPct}% (job ${result.cpu.activeJobsPerCallPct}%)  rss/call ${result.memory.rssPerCallMb} MB  ` +
          `v2v p50/p95 ${result.v2v.p50Ms}/${result.v2v.p95Ms} ms (n=${result.v2v.n})  ` +
          `job lag p99 ${result.lag.jobP99MedianMs ?? '-'} ms  machine ${result.cpu.machineBusyPct}%`,
      );
      if (saturated && o.stopAtSaturation) {
        progress.note(`saturated at K=${k} (${saturated}): not ramping further (--no-stop to go on)`);
        stoppedBecause = `saturated at K=${k}: ${saturated}`;
        break;
      }
    }
  } finally {
    progress.update('stopping calls');
    await pool.stopAll();
    await sleep(2000);
    progress.update('stopping worker and persister');
    const workerExits = await Promise.all(workers.map((w) => w.stop(40_000)));
    await persister.stop(20_000);
    progress.done(`stopped (worker exit ${workerExits.join(', ')})`);
    const problems =
      o.profile || pool.failures.length > 0 || results.some((r) => r.dropped > 0 || r.callsUp < r.k);
    if (o.keep || problems) progress.note(`worker and persister logs: ${scratch}`);
    if (!o.keep) {
      await dropDatabase(dbUrl).catch((err) => progress.note(`could not drop ${dbUrl}: ${err}`));
      await deleteQueue(cfg.REDIS_URL, queue).catch(() => undefined);
      if (!problems) rmSync(scratch, { recursive: true, force: true });
    }
    for (const f of pool.failures.slice(0, 10)) progress.note(`call failure: ${f}`);
  }

  return report(results, o, { provider, failures: pool.failures.length, stoppedBecause });
}

/**
 * Past this point more calls only make everything worse (and a 2-core machine shared with
 * others unusable): not every call could be answered, replies time out, or voice-to-voice
 * p95 tripled. Returns why, or undefined.
 */
interface RunContext {
  o: Options;
  progress: Progress;
  pool: CallPool;
  lagDir: string;
  worker: Child;
  workerPids: () => number[];
  trees: () => Map<number, ProcStat>;
  livekitPid: number | undefined;
  benchLag: IntervalHistogram;
  baseTreeRssKb: () => number;
  interrupted: () => boolean;
}

/**
 * Phase 3 of each step: one measurement window — CPU, memory, loop lag, voice-to-voice and
 * audio quality of the calls up. Undefined when the run was interrupted during the window.
 */
async function measureStep(
  m: RunContext,
  step: { i: number; k: number; t0: number; label: string; elapsed: () => string; warmAtStart: number },
): Promise<StepResult | undefined> {
  const { o, progress, pool, lagDir, worker, workerPids, trees, livekitPid, benchLag, interrupted } = m;
  const { i, k, t0, label, elapsed, warmAtStart } = step;
  const shared = o.executor === 'shared';
  const baseTreeRssKb = m.baseTreeRssKb();
  const windowS = k === 1 ? o.baselineWindowS : o.windowS;
  writeFileSync(join(lagDir, 'epoch'), `w${i}`);
  const startTree = trees();
  const startCalls = await pool.snapshot();
  const start = {
    at: performance.now(),
    bench: process.cpuUsage(),
    livekit: livekitPid ? readStat(livekitPid) : undefined,
    machine: machineCpu(),
    unanswered: pool.unanswered.length,
    dropped: pool.dropped.length,
  };
  benchLag.reset();
  const windowEnd = start.at + windowS * 1000;
  while (!interrupted() && performance.now() < windowEnd) {
    const v = pool.samples.filter((s) => s.at >= start.at).map((s) => s.ms);
    progress.update(
      `${label}  measuring ${((windowEnd - performance.now()) / 1000).toFixed(0)} s left  calls up ${pool.up}  ` +
        `v2v p50 ${fmt(percentile(v, 50))} ms (n=${v.length})  ${elapsed()}`,
    );
    await sleep(1000);
  }
  if (interrupted()) return undefined;
  const endAt = performance.now();
  const endTree = trees();
  const endCalls = await pool.snapshot();
  const bench = process.cpuUsage(start.bench);
  const livekitEnd = livekitPid ? readStat(livekitPid) : undefined;
  const machine = machineCpu();
  writeFileSync(join(lagDir, 'epoch'), `w${i}-end`);
  const benchP99 = Math.max(0, benchLag.percentile(99) / 1e6 - 10);
  const seconds = (endAt - start.at) / 1000;
  const ticksPerCore = seconds * CLOCK_TICKS_PER_SECOND;

  // CPU and memory of the worker tree
  const view = classify(endTree, worker.pid);
  const treeCores = treeTicks(startTree, endTree) / ticksPerCore;
  const jobCpu = new Map<number, number>();
  // Shared executor: the workers themselves carry the calls.
  for (const pid of shared ? workerPids() : view.jobs)
    jobCpu.set(pid, processTicks(startTree, endTree, pid) / ticksPerCore);
  for (const [pid, owner] of view.owner) {
    jobCpu.set(owner, (jobCpu.get(owner) ?? 0) + processTicks(startTree, endTree, pid) / ticksPerCore);
  }
  // The calls up are carried by the busiest job processes (idle warm ones use ~1 %).
  // Shared executor: every call is in the worker process itself.
  const active = shared
    ? workerPids()
    : [...view.jobs]
        .sort((a, b) => (jobCpu.get(b) ?? 0) - (jobCpu.get(a) ?? 0))
        .slice(0, pool.up)
        .filter((pid) => (jobCpu.get(pid) ?? 0) >= ACTIVE_CPU_SHARE);
  const idle = view.jobs.filter((pid) => !active.includes(pid));
  const sumCpu = (pids: number[]) => pids.reduce((a, pid) => a + (jobCpu.get(pid) ?? 0), 0);
  const inferenceCores = view.inference.reduce(
    (a, pid) => a + processTicks(startTree, endTree, pid) / ticksPerCore,
    0,
  );
  const mem = (pid: number) => readMemory(pid) ?? { rssKb: 0, pssKb: 0 };
  let activeRss = 0;
  let activePss = 0;
  for (const pid of active) {
    const m = mem(pid);
    activeRss += m.rssKb;
    activePss += m.pssKb;
  }
  for (const [pid, owner] of view.owner) {
    if (!active.includes(owner)) continue;
    const m = mem(pid);
    activeRss += m.rssKb;
    activePss += m.pssKb;
  }
  const idleRss = idle.reduce((s, pid) => s + mem(pid).rssKb, 0);
  const treeRss = [...endTree.keys()].reduce((s, pid) => s + mem(pid).rssKb, 0);
  const inferenceRss = view.inference.reduce((s, pid) => s + mem(pid).rssKb, 0);

  await sleep(800); // the probes write the window's histograms
  const lag = readLag(lagDir, `w${i}`);
  const jobP99 = lag.filter((l) => l.kind === 'job' && active.includes(l.pid)).map((l) => l.p99);
  const workerLags = lag.filter((l) => workerPids().includes(l.pid)).map((l) => l.p99);
  const workerP99 = workerLags.length ? Math.max(...workerLags) : null;

  const v2v = pool.samples.filter((s) => s.at >= start.at && s.at < endAt).map((s) => s.ms);
  // Calls answered in this step (its ramp started at t0).
  const answers = pool.answers.filter((a) => a.at >= t0).map((a) => a.ms);
  const audio = audioDelta(startCalls, endCalls);
  const result: StepResult = {
    k,
    callsUp: pool.up,
    windowS: round(seconds, 1),
    cpu: {
      perCallPct: round((treeCores / k) * 100, 2),
      workerTreeCores: round(treeCores, 3),
      activeJobsPerCallPct: round((sumCpu(active) / Math.max(1, shared ? k : active.length)) * 100, 2),
      idleJobsCores: round(sumCpu(idle), 3),
      workerMainCores: round(
        workerPids().reduce((a, pid) => a + processTicks(startTree, endTree, pid), 0) / ticksPerCore,
        3,
      ),
      inferenceCores: round(inferenceCores, 3),
      benchCores: round((bench.user + bench.system) / 1e6 / seconds, 3),
      livekitCores:
        start.livekit && livekitEnd
          ? round((livekitEnd.ticks - start.livekit.ticks) / ticksPerCore, 3)
          : null,
      otherCores: 0,
      machineBusyPct: round(
        ((machine.busy - start.machine.busy) / Math.max(1, machine.total - start.machine.total)) * 100,
        1,
      ),
    },
    memory: {
      rssPerCallMb: round(activeRss / 1024 / Math.max(1, shared ? k : active.length), 1),
      pssPerCallMb: round(activePss / 1024 / Math.max(1, shared ? k : active.length), 1),
      activeJobProcesses: active.length,
      idleJobProcesses: idle.length,
      idleRssMb: round(idleRss / 1024 / Math.max(1, idle.length), 1),
      workerRssMb: round(workerPids().reduce((a, pid) => a + mem(pid).rssKb, 0) / 1024, 1),
      inferenceRssMb: view.inference.length ? round(inferenceRss / 1024, 1) : null,
      treeRssPerCallMb: round(treeRss / 1024 / k, 1),
      marginalRssPerCallMb: round((treeRss - baseTreeRssKb) / 1024 / k, 1),
    },
    lag: {
      jobP99MedianMs: nullableRound(median(jobP99), 1),
      jobP99WorstMs: jobP99.length ? round(Math.max(...jobP99), 1) : null,
      workerP99Ms: workerP99 === null ? null : round(workerP99, 1),
      benchP99Ms: round(benchP99, 1),
    },
    v2v: {
      n: v2v.length,
      p50Ms: round(percentile(v2v, 50), 0),
      p95Ms: round(percentile(v2v, 95), 0),
      maxMs: round(v2v.length ? Math.max(...v2v) : Number.NaN, 0),
    },
    answerP50Ms: nullableRound(median(answers), 0),
    audio: {
      heardFrames: audio.heardFrames,
      latePct: round(pct(audio.lateFrames, audio.heardFrames), 3),
      gaps: audio.gaps,
      callerSkippedFrames: audio.skippedSendFrames,
      gapMsPerMinute: round((audio.gapMs / seconds) * 60, 0),
      packetsLostPct: round(pct(audio.packetsLost, audio.packetsReceived + audio.packetsLost), 3),
      concealedPct: round(
        pct(audio.concealedSamples - audio.silentConcealedSamples, audio.totalSamplesReceived),
        3,
      ),
    },
    warmAtStart,
    unanswered: pool.unanswered.length - start.unanswered,
    dropped: pool.dropped.length - start.dropped,
    withinV2vTolerance: false,
  };
  return result;
}

function saturation(r: StepResult, base: StepResult): string | undefined {
  if (r.callsUp < r.k) return `only ${r.callsUp}/${r.k} calls answered`;
  if (r.unanswered > Math.max(2, r.v2v.n * 0.1)) return `${r.unanswered} replies timed out`;
  if (r.v2v.p95Ms > Math.max(3 * base.v2v.p95Ms, base.v2v.p95Ms + 2000)) {
    return `v2v p95 ${r.v2v.p95Ms} ms vs ${base.v2v.p95Ms} ms for one call`;
  }
  return undefined;
}

/**
 * Waits until the worker has `want` warm job processes: started, initialized (silero loaded)
 * and carrying no call — told apart by CPU: over a second, a warm idle process uses next to
 * nothing, one that is initializing or carrying a call uses far more.
 */
// ---------------------------------------------------------------- report

const program = new Command('bench:load')
  .description('capacity benchmark: ramp concurrent calls against the worker(s) on the local stack')
  .option('--steps <list>', 'concurrent calls per step, ascending', '1,2,4,6,8,10,15,20,30,40')
  .option('--quick', 'short run: steps 1,2,4, 15 s windows (30 s for one call)')
  .option('--local', 'offline speech providers (pocketsphinx + flite) instead of the instant fakes')
  .option(
    '--workers <n>',
    'workers sharing the calls, as `voice-agent pool` runs them (shared executor)',
    '1',
  )
  .option(
    '--executor <kinds>',
    'shared (every call in the worker, the default) or process (a process per call); a list runs each',
    'shared',
  )
  .option(
    '--path <paths>',
    'PIPELINE_PATH of the worker: fast (default) or classic; a list (classic,fast) runs each, side by side',
    'fast',
  )
  .option('--compare', 'the issue 20 comparison in one run: process/classic, shared/classic, shared/fast')
  .option('--window <s>', 'measurement window per step, seconds', '30')
  .option('--baseline-window <s>', 'measurement window of a one-call step, seconds', '75')
  .option('--settle <s>', 'wait after the ramp before measuring, seconds', '4')
  .option('--stagger <ms>', 'between call starts in a ramp', '250')
  .option(
    '--idle <n>',
    'warm job processes (WORKER_IDLE_PROCESSES, process executor only); default: the largest step increase, ≤ 8',
  )
  .option('--json', 'print the results as JSON on stdout (the table goes to stderr)')
  .option('--keep', 'keep the scratch database, queue and logs')
  .option('--max-minutes <n>', 'start no new step after this many minutes', '10')
  .option('--no-stop', 'keep ramping past saturation (calls unanswered, v2v p95 ≥ 3× one call)')
  .option('--profile', 'V8 CPU profiles of the worker processes per window (kept with the logs)')
  .action(async (opts: Record<string, string | boolean | undefined>) => {
    const quick = Boolean(opts.quick);
    const steps = (quick && opts.steps === '1,2,4,6,8,10,15,20,30,40' ? '1,2,4' : String(opts.steps))
      .split(',')
      .map((s) => Number(s.trim()))
      .filter((n) => Number.isInteger(n) && n > 0);
    if (steps.length === 0 || steps.some((s, i) => i > 0 && s <= steps[i - 1]!)) {
      throw new Error('--steps must be ascending positive integers, e.g. 1,5,10,20');
    }
    const executors = list(String(opts.executor), ['process', 'shared'] as const, '--executor');
    const paths = list(String(opts.path), ['fast', 'classic'] as const, '--path');
    const runs: [Options['executor'], PipelinePath][] = opts.compare
      ? [
          ['process', 'classic'],
          ['shared', 'classic'],
          ['shared', 'fast'],
        ]
      : executors.flatMap((e) => paths.map((p): [Options['executor'], PipelinePath] => [e, p]));
    const workerCount = Number(opts.workers);
    if (!Number.isInteger(workerCount) || workerCount < 1)
      throw new Error('--workers must be a positive integer');
    if (workerCount > 1 && runs.some(([e]) => e !== 'shared'))
      throw new Error('--workers > 1 needs --executor shared');
    const increase = Math.max(...steps.map((s, i) => s - (i > 0 ? steps[i - 1]! : 0)));
    const summaries: RunSummary[] = [];
    for (const [executor, path] of runs) {
      summaries.push(
        await main({
          steps,
          windowS: quick ? 15 : Number(opts.window),
          baselineWindowS: quick ? 30 : Number(opts.baselineWindow),
          settleS: Number(opts.settle),
          staggerMs: Number(opts.stagger),
          idle:
            executor === 'shared' ? 0 : opts.idle !== undefined ? Number(opts.idle) : Math.min(8, increase),
          local: Boolean(opts.local),
          executor,
          path,
          workers: workerCount,
          json: Boolean(opts.json),
          keep: Boolean(opts.keep),
          maxMinutes: Number(opts.maxMinutes),
          profile: Boolean(opts.profile),
          stopAtSaturation: opts.stop !== false,
        }),
      );
    }
    (opts.json ? process.stderr : process.stdout).write(`${comparison(summaries)}\n`);
    if (opts.json) process.stdout.write(`${JSON.stringify({ runs: summaries }, null, 2)}\n`);
  });

function list<T extends string>(value: string, allowed: readonly T[], flag: string): T[] {
  const items = value.split(',').map((v) => v.trim());
  const bad = items.find((v) => !allowed.includes(v as T));
  if (bad !== undefined || items.length === 0)
    throw new Error(`${flag} must be a list of ${allowed.join(', ')}`);
  return items as T[];
}

await program.parseAsync();
process.exit(0);
