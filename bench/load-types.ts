/** What one bench:load run is asked to do and what each of its steps measured. */

export type PipelinePath = 'fast' | 'classic';

export interface Options {
  steps: number[];
  windowS: number;
  baselineWindowS: number;
  settleS: number;
  staggerMs: number;
  idle: number;
  local: boolean;
  /** WORKER_EXECUTOR: a process per call, or every call in the worker process. */
  executor: 'process' | 'shared';
  /** PIPELINE_PATH of the worker: the media path and end of turn under test. */
  path: PipelinePath;
  /** Workers sharing the calls (shared executor only): a pool, as `voice-agent pool` runs it. */
  workers: number;
  json: boolean;
  keep: boolean;
  maxMinutes: number;
  profile: boolean;
  stopAtSaturation: boolean;
}

export interface StepResult {
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
