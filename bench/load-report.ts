import { cpus, totalmem } from 'node:os';
import type { Options, StepResult } from './load-types.js';

/** bench:load's tables per run, its JSON summary, and the side-by-side comparison of runs. */

export const V2V_TOLERANCE_MS = 50;

/**
 * Voice-to-voice as bench:load measures it, and how it relates to the worker's own figure
 * (src/pipeline/latency-meter.ts: the VAD's estimate of the caller's last voiced frame → the
 * first reply frame handed to the audio output). The endpointing wait is part of both: silero
 * ends speech after 550 ms of silence and the framework's 500 ms minimum delay counts from
 * the same last voiced frame, so they overlap (~0.55 s, not 1.05 s) on the classic path; the
 * fast path waits 200 ms once the answer is complete (only with an engine that implements
 * completesTurn). The caller's figure adds transport both ways, the jitter buffers and the
 * silence at the start of the reply.
 */
export const V2V_DEFINITION =
  "v2v (heard) = last voiced sample sent → first loud agent frame received = the worker's v2v " +
  '(includes the endpointing wait: ~0.55 s classic, 0.2 s fast for a complete answer) + transport, jitter buffers and leading silence of the reply.';

/** Per step, the figures issue 20 compares across runs. */
export interface StepSummary {
  calls: number;
  cpu_per_call: number;
  rss_per_call_mb: number;
  v2v_p50_ms: number;
  v2v_p95_ms: number;
}

export interface RunSummary {
  executor: Options['executor'];
  path: Options['path'];
  workers: number;
  provider: string;
  machine: { cores: number; cpu: string | undefined; memGiB: number; node: string };
  steps: number[];
  oneCallV2vP95Ms: number | null;
  maxKWithinV2v: number | null;
  v2vToleranceMs: number;
  callFailures: number;
  stoppedBecause: string | null;
  steps_summary: StepSummary[];
  results: StepResult[];
}

function stepSummary(r: StepResult): StepSummary {
  return {
    calls: r.callsUp,
    cpu_per_call: round(r.cpu.perCallPct / 100, 4),
    rss_per_call_mb: r.memory.rssPerCallMb,
    v2v_p50_ms: round(r.v2v.p50Ms, 0),
    v2v_p95_ms: round(r.v2v.p95Ms, 0),
  };
}

/** One table, one row per step and run: the runs of one invocation side by side. */
export function comparison(runs: RunSummary[]): string {
  const rows = runs.flatMap((run) =>
    run.steps_summary.map(
      (s, i) =>
        `| ${run.executor} | ${run.path} | ${run.results[i]?.k ?? '-'} | ${s.calls} | ${(s.cpu_per_call * 100).toFixed(1)} % | ` +
        `${s.rss_per_call_mb.toFixed(0)} MB | ${fmt(s.v2v_p50_ms)} ms | ${fmt(s.v2v_p95_ms)} ms |`,
    ),
  );
  const capacity = runs.map(
    (run) =>
      `${run.executor}/${run.path}: largest K within ${V2V_TOLERANCE_MS} ms of one call's p95 (${run.oneCallV2vP95Ms ?? '-'} ms): ${run.maxKWithinV2v ?? 'none'}`,
  );
  return [
    '',
    '| executor | path | K | calls up | CPU/call | RSS/call | v2v p50 | v2v p95 |',
    '| --- | --- | -: | -: | -: | -: | -: | -: |',
    ...rows,
    '',
    ...capacity,
    V2V_DEFINITION,
  ].join('\n');
}

const round = (v: number, digits: number) => (Number.isFinite(v) ? Number(v.toFixed(digits)) : Number.NaN);
const pctText = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)} %` : '-');
const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '-');

export function report(
  results: StepResult[],
  o: Options,
  meta: { provider: string; failures: number; stoppedBecause: string | undefined },
): RunSummary {
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
  const summary: RunSummary = {
    executor: o.executor,
    path: o.path,
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
    steps_summary: results.map(stepSummary),
    results,
  };
  const text = [
    '',
    resources,
    '',
    quality,
    '',
    `one-call v2v p95: ${base ? `${base.v2v.p95Ms} ms` : '-'}; largest K with v2v p95 within ${V2V_TOLERANCE_MS} ms of it (steps in order, all calls up): ${maxK ?? 'none'}`,
    `executor: ${o.executor}, path ${o.path}. CPU/call = worker process tree CPU / K (% of one core); job process = the process carrying a call` +
      ` (shared: the worker itself); RSS/PSS per call = those processes / calls; added RSS/call = (worker tree RSS − before the first call) / K`,
    ...(meta.stoppedBecause ? [`stopped: ${meta.stoppedBecause}`] : []),
    V2V_DEFINITION,
  ].join('\n');
  // With --json the tables go to stderr; the caller prints every run's summary as one JSON.
  (o.json ? process.stderr : process.stdout).write(`${text}\n`);
  return summary;
}
