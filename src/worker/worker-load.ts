import { availableParallelism, loadavg } from 'node:os';
import {
  CLOCK_TICKS_PER_SECOND,
  type ProcStat,
  processTree,
  treeTicks,
} from '../observability/proc-stats.js';

/**
 * Load reported to LiveKit: the larger of the worker's CPU share and the share of
 * MAX_CONCURRENT_CALLS in use. LiveKit stops dispatching to a worker above
 * WORKER_LOAD_THRESHOLD; the executors additionally refuse anything past the maximum, so a
 * burst of dispatches between two load reports cannot overfill the worker.
 */
export function workerLoad(activeCalls: number, maxCalls: number, cpuShare = 0): number {
  return Math.min(1, Math.max(cpuShare, activeCalls / maxCalls));
}

/** The shortest window a load reading covers. */
const MIN_WINDOW_S = 1;

/**
 * CPU used by this worker — its own process and every job process under it — as a share of
 * the machine's cores, over the time since the previous reading. Other programs on the machine
 * (a test suite, livekit-server) do not count: they are not this worker's load, and the
 * machine-wide load average made a worker on a busy CI machine refuse every call.
 * Off Linux (no /proc) it falls back to the 1-minute load average per core.
 */
export class WorkerCpu {
  #root: number;
  #last: { at: number; tree: Map<number, ProcStat> } | undefined;
  #share = 0;

  constructor(root = process.pid) {
    this.#root = root;
  }

  /** The share since the previous call (the first call starts the measurement and returns 0). */
  read(): number {
    let tree: Map<number, ProcStat>;
    try {
      tree = processTree(this.#root);
    } catch {
      return Math.min(1, loadavg()[0]! / availableParallelism());
    }
    if (tree.size === 0) return Math.min(1, loadavg()[0]! / availableParallelism());
    const now = performance.now();
    if (this.#last) {
      const seconds = (now - this.#last.at) / 1000;
      // Readings are asked for on every call start and end too: closer together than a
      // second they would measure a moment, not a load (and scan /proc on the audio thread).
      if (seconds < MIN_WINDOW_S) return this.#share;
      const cores = treeTicks(this.#last.tree, tree) / CLOCK_TICKS_PER_SECOND / seconds;
      this.#share = Math.min(1, Math.max(0, cores / availableParallelism()));
    }
    this.#last = { at: now, tree };
    return this.#share;
  }
}

/**
 * How busy this process's event loop was since the previous reading (0–1). For the shared
 * executor it is the real limit: every call's audio path runs on this one JavaScript thread,
 * which saturates (bench:load: ~8 calls on this VM) while the machine still has a core free —
 * a CPU share of the machine would read 0.5 there and never stop dispatch.
 */
export class LoopUtilization {
  #last = performance.eventLoopUtilization();
  #lastAt = performance.now();
  #share = 0;

  read(): number {
    // A window of a few ms (a call starting) would read as a saturated loop: keep the last
    // reading until a second has passed.
    if (performance.now() - this.#lastAt < MIN_WINDOW_S * 1000) return this.#share;
    const now = performance.eventLoopUtilization();
    const share = performance.eventLoopUtilization(now, this.#last).utilization;
    this.#last = now;
    this.#lastAt = performance.now();
    this.#share = Number.isFinite(share) ? share : 0;
    return this.#share;
  }
}
