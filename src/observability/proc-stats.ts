/**
 * Linux /proc readers: a process tree (a worker and every job process it forked, and their
 * children), CPU time per process, RSS and PSS — for the worker's load report and bench:load.
 *
 * CPU time is utime + stime from /proc/<pid>/stat in clock ticks (USER_HZ, 100 on Linux).
 * A child that exits is added to its parent's cutime/cstime once the parent reaps it, so the
 * CPU of a tree over a window is: Σ over processes alive at the end of (end − start) + the
 * growth of the reaped-children time of every process − the start time of processes that
 * died in between (already counted in the reaped time).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cmdline } from '../util/process.js';

export const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcStat {
  pid: number;
  ppid: number;
  /** One letter: R running, S sleeping, Z zombie (exited, not yet reaped) … */
  state: string;
  /** utime + stime, ticks. */
  ticks: number;
  /** cutime + cstime (reaped children), ticks. */
  childTicks: number;
  /** Start time since boot, ticks (tells a reused pid apart). */
  startTicks: number;
  /** Threads. */
  threads: number;
}

/** /proc/<pid>/stat, or undefined when the process is gone. */
export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may contain spaces and parentheses: fields start after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // f[0] = state (field 3); field n is f[n - 3].
  return {
    pid,
    ppid: Number(f[1]),
    state: f[0]!,
    ticks: Number(f[11]) + Number(f[12]),
    childTicks: Number(f[13]) + Number(f[14]),
    threads: Number(f[17]),
    startTicks: Number(f[19]),
  };
}

export function allPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** `root` and all its descendants (breadth first), with their stats. */
export function processTree(root: number): Map<number, ProcStat> {
  const stats = new Map<number, ProcStat>();
  const children = new Map<number, number[]>();
  for (const pid of allPids()) {
    const s = readStat(pid);
    if (!s) continue;
    stats.set(pid, s);
    const list = children.get(s.ppid);
    if (list) list.push(pid);
    else children.set(s.ppid, [pid]);
  }
  const tree = new Map<number, ProcStat>();
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    const s = stats.get(pid);
    if (!s) continue;
    tree.set(pid, s);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

// Re-exported: the load benchmark reads command lines from here.
export { cmdline };

export interface Memory {
  /** Resident set, kB (counts shared pages — node binary, libraries — in full). */
  rssKb: number;
  /** Proportional set, kB (shared pages divided among the processes sharing them). */
  pssKb: number;
}

export function readMemory(pid: number): Memory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    let pssKb = rssKb;
    try {
      pssKb = Number(/Pss:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? rssKb);
    } catch {
      // smaps_rollup needs Linux ≥ 4.14 and the same user: fall back to RSS
    }
    return { rssKb, pssKb };
  } catch {
    return undefined;
  }
}

/** CPU ticks of a tree between two snapshots (see the file comment). */
export function treeTicks(start: Map<number, ProcStat>, end: Map<number, ProcStat>): number {
  let ticks = 0;
  const same = (a: ProcStat | undefined, b: ProcStat) => a !== undefined && a.startTicks === b.startTicks;
  for (const [pid, e] of end) {
    const s = start.get(pid);
    ticks += same(s, e) ? e.ticks - s!.ticks + (e.childTicks - s!.childTicks) : e.ticks + e.childTicks;
  }
  for (const [pid, s] of start) {
    const e = end.get(pid);
    if (!e || !same(s, e)) ticks -= s.ticks + s.childTicks; // died (its time moved to a parent's childTicks)
  }
  return ticks;
}

/** CPU ticks of one process between two snapshots (0 for a process that is not in both). */
export function processTicks(start: Map<number, ProcStat>, end: Map<number, ProcStat>, pid: number): number {
  const s = start.get(pid);
  const e = end.get(pid);
  if (!s || !e || s.startTicks !== e.startTicks) return 0;
  return e.ticks - s.ticks;
}

/** Machine-wide CPU from /proc/stat: busy and total jiffies (all cores). */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // without guest (already in user)
  return { busy: total - idle, total };
}

/** MemAvailable in kB. */
export function memAvailableKb(): number {
  return Number(/MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
}

/** First process whose command line matches (e.g. the livekit-server of the stack). */
export function findProcess(pattern: RegExp): number | undefined {
  for (const pid of allPids()) {
    if (pattern.test(cmdline(pid))) return pid;
  }
  return undefined;
}
