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
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { Redis } from 'ioredis';
import { AgentDispatchClient, RoomServiceClient } from 'livekit-server-sdk';
import { soundSpans } from '../src/audio/level.js';
import { readWav } from '../src/audio/wav.js';
import { type Config, loadConfig } from '../src/config/config.js';
import {
  CLOCK_TICKS_PER_SECOND,
  cmdline,
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
import type { ProbeSample } from './lag-probe.js';
import {
  type CallerCounters,
  type InboundAudioStats,
  LoadCaller,
  TURN_END_QUIET_MS,
  zeroCounters,
  zeroInboundStats,
} from './load-caller.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url)); // dist/bench → repository root
const CLI = join(ROOT, 'dist/src/cli/main.js');
const PROBE = fileURLToPath(new URL('./lag-probe.js', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/audio/16k');
/** The call's clock (dispatch metadata): a Wednesday morning in business hours. */
const CALL_NOW = '2025-03-05T15:00:00Z';
/** What callers say: the booking opening, then corrections in a loop (see providers/fake/load-test.ts). */
const OPENING = ['greet-book', 'name-john-smith', 'date-next-tuesday', 'time-three-thirty', 'phone-slt'];
const LOOP = [
  'no-wednesday',
  'var-thursday-instead',
  'date-friday-twelfth',
  'time-two-oclock',
  'monday-afternoon',
];
const REPLY_TIMEOUT_MS = 15_000;
/** A job process that used less CPU than this over a window carried no call, whatever its rank. */
const ACTIVE_CPU_SHARE = 0.01;
const V2V_TOLERANCE_MS = 50;
/** A job process using at most this many CPU ticks in a second (2 % of a core) is idle. */
const WARM_IDLE_TICKS_PER_SECOND = 2;
/** Memory the benchmark leaves to everything else on the machine. */
const MEMORY_RESERVE_KB = 3 * 2 ** 20;

interface Options {
  steps: number[];
  windowS: number;
  baselineWindowS: number;
  settleS: number;
  staggerMs: number;
  idle: number;
  local: boolean;
  /** WORKER_EXECUTOR: a process per call, or every call in the worker process. */
  executor: 'process' | 'shared';
  /** Workers sharing the calls (shared executor only): a pool, as `voice-agent pool` runs it. */
  workers: number;
  json: boolean;
  keep: boolean;
  maxMinutes: number;
  profile: boolean;
  stopAtSaturation: boolean;
}

interface Utterance {
  name: string;
  samples: Int16Array;
  speechEnd: number;
}

interface StepResult {
  k: number;
  callsUp: number;
  windowS: number;
  cpu: {
    /** Worker tree, % of one core per call. */
    perCallPct: number;
    /** Worker tree, cores. */
    workerTreeCores: number;
    /** A job process carrying a call (with its children), % of one core. */
    activeJobsPerCallPct: number;
    /** Warm idle job processes, cores. */
    idleJobsCores: number;
    workerMainCores: number;
    /** The framework's inference process (end-of-turn model; unused with VAD turn detection). */
    inferenceCores: number;
    benchCores: number;
    livekitCores: number | null;
    /** Whole machine busy, % of all cores. */
    machineBusyPct: number;
    /** Machine busy minus the worker tree, the benchmark and livekit-server: everything else, cores. */
    otherCores: number;
  };
  memory: {
    /** Job processes carrying calls (and their children), per call. */
    rssPerCallMb: number;
    pssPerCallMb: number;
    activeJobProcesses: number;
    idleJobProcesses: number;
    idleRssMb: number;
    workerRssMb: number;
    inferenceRssMb: number | null;
    /** Everything the worker tree holds / K. */
    treeRssPerCallMb: number;
    /** (worker tree RSS now − before the first call) / K: what one more call costs. */
    marginalRssPerCallMb: number;
  };
  lag: {
    jobP99MedianMs: number | null;
    jobP99WorstMs: number | null;
    workerP99Ms: number | null;
    benchP99Ms: number;
  };
  v2v: { n: number; p50Ms: number; p95Ms: number; maxMs: number };
  answerP50Ms: number | null;
  audio: {
    heardFrames: number;
    latePct: number;
    gaps: number;
    /** Silence frames the callers skipped because the benchmark process was starved. */
    callerSkippedFrames: number;
    gapMsPerMinute: number;
    packetsLostPct: number;
    concealedPct: number;
  };
  /** Warm idle job processes when the window started (the pool refills in the background). */
  warmAtStart: number;
  unanswered: number;
  dropped: number;
  withinV2vTolerance: boolean;
}

// ---------------------------------------------------------------- helpers

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const median = (values: number[]) => (values.length ? percentile(values, 50) : null);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

function loadUtterance(name: string): Utterance {
  const wav = readWav(join(FIXTURES, `${name}.wav`));
  const spans = soundSpans(wav.samples, wav.sampleRate);
  const first = spans[0];
  const last = spans[spans.length - 1];
  if (wav.sampleRate !== 16000 || wav.channels !== 1 || !first || !last) {
    throw new Error(`${name}.wav: expected audible 16 kHz mono speech`);
  }
  // 100 ms of lead-in, speech, 100 ms of tail: the pump carries on with silence afterwards.
  const pad = 1600;
  const start = Math.max(0, first.start - pad);
  const end = Math.min(wav.samples.length, last.end + pad);
  return { name, samples: wav.samples.subarray(start, end), speechEnd: last.end - start };
}

/** A child process with its output kept (tail) for diagnostics. */
class Child {
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
class Progress {
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

// ---------------------------------------------------------------- calls

interface V2vSample {
  at: number;
  ms: number;
}

class CallPool {
  readonly calls = new Set<Call>();
  readonly samples: V2vSample[] = [];
  readonly answers: { at: number; ms: number }[] = [];
  readonly unanswered: number[] = [];
  readonly dropped: number[] = [];
  readonly failures: string[] = [];
  #seq = 0;
  running = true;

  constructor(
    readonly cfg: Config,
    readonly agentName: string,
    readonly runId: string,
    readonly utterances: { opening: Utterance[]; loop: Utterance[] },
  ) {}

  get up(): number {
    let n = 0;
    for (const c of this.calls) if (c.answered && !c.ended) n++;
    return n;
  }

  start(): Call {
    const call = new Call(this, this.#seq++);
    this.calls.add(call);
    void call.run();
    return call;
  }

  async stopAll(): Promise<void> {
    this.running = false;
    await Promise.allSettled([...this.calls].map((c) => c.hangup()));
  }

  /** Caller counters and receive statistics of every call up now. */
  async snapshot(): Promise<Map<Call, CallSnapshot>> {
    const out = new Map<Call, CallSnapshot>();
    await Promise.all(
      [...this.calls].map(async (call) => {
        const caller = call.caller;
        if (!caller || call.ended || !call.answered) return;
        const rtc = await caller.inboundAudioStats().catch(() => undefined);
        out.set(call, { counters: { ...caller.counters }, ...(rtc ? { rtc } : {}) });
      }),
    );
    return out;
  }
}

interface CallSnapshot {
  counters: CallerCounters;
  rtc?: InboundAudioStats;
}

type AudioTotals = CallerCounters & InboundAudioStats;

/** Growth of the counters over a window, summed over the calls present at both ends. */
function audioDelta(start: Map<Call, CallSnapshot>, end: Map<Call, CallSnapshot>): AudioTotals {
  const out: AudioTotals = { ...zeroCounters(), ...zeroInboundStats() };
  for (const [call, b] of end) {
    const a = start.get(call);
    if (!a) continue;
    for (const k of Object.keys(b.counters) as (keyof CallerCounters)[])
      out[k] += b.counters[k] - a.counters[k];
    if (a.rtc && b.rtc) {
      for (const k of Object.keys(b.rtc) as (keyof InboundAudioStats)[]) out[k] += b.rtc[k] - a.rtc[k];
    }
  }
  return out;
}

class Call {
  caller: LoadCaller | undefined;
  answered = false;
  ended = false;
  readonly room: string;
  #turn = 0;

  constructor(
    readonly pool: CallPool,
    readonly index: number,
  ) {
    this.room = `bench-load-${pool.runId}-${index}`;
  }

  #next(): Utterance {
    const { opening, loop } = this.pool.utterances;
    const i = this.#turn++;
    return i < opening.length ? opening[i]! : loop[(i - opening.length) % loop.length]!;
  }

  async run(): Promise<void> {
    const { cfg, agentName } = this.pool;
    const http = cfg.LIVEKIT_URL.replace(/^ws/, 'http');
    try {
      const rooms = new RoomServiceClient(http, cfg.LIVEKIT_API_KEY, cfg.LIVEKIT_API_SECRET);
      await rooms.createRoom({ name: this.room, emptyTimeout: 30 });
      this.caller = await LoadCaller.join({
        url: cfg.LIVEKIT_URL,
        apiKey: cfg.LIVEKIT_API_KEY,
        apiSecret: cfg.LIVEKIT_API_SECRET,
        room: this.room,
        identity: `caller-${this.index}`,
      });
      const dispatch = new AgentDispatchClient(http, cfg.LIVEKIT_API_KEY, cfg.LIVEKIT_API_SECRET);
      const dispatchedAt = performance.now();
      await dispatch.createDispatch(this.room, agentName, { metadata: JSON.stringify({ now: CALL_NOW }) });
      const greeting = await this.caller.agentSpeechAfter(dispatchedAt, 90_000);
      if (greeting === undefined || !Number.isFinite(greeting)) {
        if (this.pool.running) this.pool.failures.push(`call ${this.index}: no greeting within 90 s`);
        return;
      }
      this.answered = true;
      this.pool.answers.push({ at: greeting, ms: greeting - dispatchedAt });
      await this.caller.agentQuiet(TURN_END_QUIET_MS, 30_000);
      while (this.pool.running && !this.caller.disconnected) {
        const u = this.#next();
        await this.caller.say(u.samples, u.speechEnd);
        if (!this.pool.running) break;
        const anchor = this.caller.speechEndAt ?? performance.now();
        const onset = await this.caller.agentSpeechAfter(anchor, REPLY_TIMEOUT_MS);
        if (!this.pool.running) break;
        if (onset === undefined || !Number.isFinite(onset)) {
          // no reply in time (an overloaded agent): carry on, as a caller repeating itself would
          this.pool.unanswered.push(performance.now());
          continue;
        }
        this.pool.samples.push({ at: anchor, ms: onset - anchor });
        await this.caller.agentQuiet(TURN_END_QUIET_MS, 30_000);
        await sleep(200 + Math.random() * 300);
      }
      if (this.pool.running) {
        // The agent hung up (the room is gone): replace the call to keep K.
        this.pool.dropped.push(performance.now());
      }
    } catch (err) {
      if (this.pool.running) this.pool.failures.push(`call ${this.index}: ${(err as Error).message}`);
    } finally {
      this.ended = true;
      await this.hangup();
      if (this.pool.running && this.answered) {
        this.pool.calls.delete(this);
        this.pool.start();
      }
    }
  }

  async hangup(): Promise<void> {
    await this.caller?.hangup();
  }
}

// ---------------------------------------------------------------- worker tree

interface TreeView {
  main: number;
  jobs: number[];
  inference: number[];
  /** pid → the job process it belongs to (speech helpers of --local). */
  owner: Map<number, number>;
}

function classify(tree: Map<number, ProcStat>, root: number): TreeView {
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

// ---------------------------------------------------------------- main

async function main(o: Options): Promise<void> {
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
  const httpPort = await freePort();
  const provider = o.local ? 'local' : 'fake';

  progress.note(
    `bench:load — executor ${o.executor}${o.workers > 1 ? ` × ${o.workers} workers` : ''}, provider ${provider}, steps ${o.steps.join(',')}, window ${o.windowS} s (one call: ${o.baselineWindowS} s), ` +
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

      // measurement window
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
      while (!interrupted && performance.now() < windowEnd) {
        const v = pool.samples.filter((s) => s.at >= start.at).map((s) => s.ms);
        progress.update(
          `${label}  measuring ${((windowEnd - performance.now()) / 1000).toFixed(0)} s left  calls up ${pool.up}  ` +
            `v2v p50 ${fmt(percentile(v, 50))} ms (n=${v.length})  ${elapsed()}`,
        );
        await sleep(1000);
      }
      if (interrupted) break;
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

  report(results, o, { provider, failures: pool.failures.length, stoppedBecause });
}

/**
 * Past this point more calls only make everything worse (and a 2-core machine shared with
 * others unusable): not every call could be answered, replies time out, or voice-to-voice
 * p95 tripled. Returns why, or undefined.
 */
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
async function waitForWarm(
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

function readLag(dir: string, epoch: string): ProbeSample[] {
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

async function deleteQueue(redisUrl: string, queue: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const keys = await redis.keys(`bull:${queue}*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

const round = (v: number, digits: number) => (Number.isFinite(v) ? Number(v.toFixed(digits)) : Number.NaN);
const nullableRound = (v: number | null, digits: number) => (v === null ? null : round(v, digits));
const pct = (part: number, whole: number) => (whole > 0 ? (part / whole) * 100 : Number.NaN);
const pctText = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)} %` : '-');
const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '-');

// ---------------------------------------------------------------- report

function report(
  results: StepResult[],
  o: Options,
  meta: { provider: string; failures: number; stoppedBecause: string | undefined },
): void {
  const base = results[0];
  let maxK: number | null = null;
  for (const r of results) {
    if (!r.withinV2vTolerance || r.callsUp < r.k) break;
    maxK = r.k;
  }
  const ms = (v: number | null) => (v === null || !Number.isFinite(v) ? '-' : `${v.toFixed(0)}`);
  const resources = [
    '| K | calls up | CPU/call (worker tree) | CPU/call (job process) | worker tree | bench callers | livekit-server | everything else | RSS/call | PSS/call | added RSS/call | worker main RSS | warm idle processes |',
    '| -: | -: | -: | -: | -: | -: | -: | -: | -: | -: | -: | -: | -: |',
    ...results.map(
      (r) =>
        `| ${r.k} | ${r.callsUp} | ${r.cpu.perCallPct.toFixed(1)} % | ${r.cpu.activeJobsPerCallPct.toFixed(1)} % | ` +
        `${r.cpu.workerTreeCores.toFixed(2)} cores | ${r.cpu.benchCores.toFixed(2)} | ${r.cpu.livekitCores?.toFixed(2) ?? '-'} | ` +
        `${r.cpu.otherCores.toFixed(2)} (machine ${r.cpu.machineBusyPct.toFixed(0)} %) | ` +
        `${r.memory.rssPerCallMb.toFixed(0)} MB | ${r.memory.pssPerCallMb.toFixed(0)} MB | ${r.memory.marginalRssPerCallMb.toFixed(0)} MB | ${r.memory.workerRssMb.toFixed(0)} MB | ` +
        `${r.memory.idleJobProcesses} × ${r.memory.idleRssMb.toFixed(0)} MB |`,
    ),
  ].join('\n');
  const quality = [
    '| K | v2v p50 | v2v p95 | turns | answer p50 | loop lag p99 job (median / worst) | worker | bench | late frames | gaps in replies | concealed | packets lost | replies timed out | calls dropped |',
    '| -: | -: | -: | -: | -: | -: | -: | -: | -: | -: | -: | -: | -: | -: |',
    ...results.map(
      (r) =>
        `| ${r.k} | ${ms(r.v2v.p50Ms)} ms | ${ms(r.v2v.p95Ms)} ms | ${r.v2v.n} | ${ms(r.answerP50Ms)} ms | ` +
        `${r.lag.jobP99MedianMs?.toFixed(1) ?? '-'} / ${r.lag.jobP99WorstMs?.toFixed(1) ?? '-'} ms | ` +
        `${r.lag.workerP99Ms?.toFixed(1) ?? '-'} ms | ${r.lag.benchP99Ms.toFixed(1)} ms | ${pctText(r.audio.latePct)} | ` +
        `${r.audio.gapMsPerMinute} ms/min | ${pctText(r.audio.concealedPct)} | ${pctText(r.audio.packetsLostPct)} | ` +
        `${r.unanswered} | ${r.dropped} |`,
    ),
  ].join('\n');
  const summary = {
    executor: o.executor,
    workers: o.workers,
    provider: meta.provider,
    machine: {
      cores: cpus().length,
      cpu: cpus()[0]?.model,
      memGiB: round(totalmem() / 2 ** 30, 1),
      node: process.version,
    },
    steps: o.steps,
    oneCallV2vP95Ms: base?.v2v.p95Ms ?? null,
    maxKWithinV2v: maxK,
    v2vToleranceMs: V2V_TOLERANCE_MS,
    callFailures: meta.failures,
    stoppedBecause: meta.stoppedBecause ?? null,
    results,
  };
  const text = [
    '',
    resources,
    '',
    quality,
    '',
    `one-call v2v p95: ${base ? `${base.v2v.p95Ms} ms` : '-'}; largest K with v2v p95 within ${V2V_TOLERANCE_MS} ms of it (steps in order, all calls up): ${maxK ?? 'none'}`,
    `executor: ${o.executor}. CPU/call = worker process tree CPU / K (% of one core); job process = the process carrying a call` +
      ` (shared: the worker itself); RSS/PSS per call = those processes / calls; added RSS/call = (worker tree RSS − before the first call) / K`,
    ...(meta.stoppedBecause ? [`stopped: ${meta.stoppedBecause}`] : []),
    'v2v = last voiced sample sent → first loud agent frame heard (includes ~1.05 s of deliberate endpointing: 550 ms VAD silence + 500 ms delay).',
  ].join('\n');
  if (o.json) {
    process.stderr.write(`${text}\n`);
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    process.stdout.write(`${text}\n`);
  }
}

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
    '--executor <kind>',
    'shared (every call in the worker, the default) or process (a process per call)',
    'shared',
  )
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
    const executor = String(opts.executor);
    if (executor !== 'process' && executor !== 'shared')
      throw new Error('--executor must be process or shared');
    const workerCount = Number(opts.workers);
    if (!Number.isInteger(workerCount) || workerCount < 1)
      throw new Error('--workers must be a positive integer');
    if (workerCount > 1 && executor !== 'shared') throw new Error('--workers > 1 needs --executor shared');
    const increase = Math.max(...steps.map((s, i) => s - (i > 0 ? steps[i - 1]! : 0)));
    await main({
      steps,
      windowS: quick ? 15 : Number(opts.window),
      baselineWindowS: quick ? 30 : Number(opts.baselineWindow),
      settleS: Number(opts.settle),
      staggerMs: Number(opts.stagger),
      idle: executor === 'shared' ? 0 : opts.idle !== undefined ? Number(opts.idle) : Math.min(8, increase),
      local: Boolean(opts.local),
      executor,
      workers: workerCount,
      json: Boolean(opts.json),
      keep: Boolean(opts.keep),
      maxMinutes: Number(opts.maxMinutes),
      profile: Boolean(opts.profile),
      stopAtSaturation: opts.stop !== false,
    });
  });

await program.parseAsync();
process.exit(0);
