/**
 * Event-loop lag probe for the load benchmark, preloaded into the worker and every process it
 * forks (job processes inherit NODE_OPTIONS): `NODE_OPTIONS=--import=<url of this file>`.
 *
 * Each process keeps a `monitorEventLoopDelay` histogram (10 ms timer). The benchmark marks
 * its measurement windows by writing a number to `$LAG_PROBE_DIR/epoch`; when the number
 * changes, each process writes what it saw during the previous epoch to
 * `$LAG_PROBE_DIR/<pid>.<epoch>.json` (lag = timer delay beyond the 10 ms period, ms) and
 * starts afresh. Nothing happens without LAG_PROBE_DIR.
 *
 * BENCH_CPU_PROFILE=1 (bench:load --profile) also records a V8 CPU profile per process and
 * epoch, written next to the lag samples as `<pid>.<epoch>.cpuprofile` (open in Chrome
 * DevTools or speedscope); `--cpu-prof` itself is not allowed in NODE_OPTIONS.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';

export const PROBE_RESOLUTION_MS = 10;

export interface ProbeSample {
  pid: number;
  kind: 'main' | 'job' | 'inference' | 'other';
  epoch: string;
  /** Lag beyond the timer period, ms. */
  p50: number;
  p99: number;
  max: number;
  /** Timer samples in the epoch. */
  count: number;
  rssKb: number;
}

function processKind(): ProbeSample['kind'] {
  const script = process.argv[1] ?? '';
  if (script.includes('job_proc_lazy_main')) return 'job';
  if (script.includes('inference_proc_lazy_main')) return 'inference';
  if (script.endsWith('main.js')) return 'main';
  return 'other';
}

function start(dir: string): void {
  const epochFile = join(dir, 'epoch');
  const readEpoch = () => {
    try {
      return readFileSync(epochFile, 'utf8').trim();
    } catch {
      return '0';
    }
  };
  const kind = processKind();
  const histogram = monitorEventLoopDelay({ resolution: PROBE_RESOLUTION_MS });
  histogram.enable();
  let epoch = readEpoch();
  const lag = (ns: number) => Math.max(0, ns / 1e6 - PROBE_RESOLUTION_MS);
  const profiler = process.env.BENCH_CPU_PROFILE === '1' ? startProfiler() : undefined;
  const timer = setInterval(() => {
    const next = readEpoch();
    if (next === epoch) return;
    const sample: ProbeSample = {
      pid: process.pid,
      kind,
      epoch,
      p50: lag(histogram.percentile(50)),
      p99: lag(histogram.percentile(99)),
      max: lag(histogram.max),
      count: histogram.count,
      rssKb: Math.round(process.memoryUsage.rss() / 1024),
    };
    try {
      writeFileSync(join(dir, `${process.pid}.${epoch}.json`), JSON.stringify(sample));
    } catch {
      // the benchmark removed the directory: nothing to report to
    }
    histogram.reset();
    profiler?.rotate(join(dir, `${process.pid}.${epoch}.cpuprofile`));
    epoch = next;
  }, 250);
  timer.unref();
}

/** A sampling profile of this process, saved and restarted at each epoch. */
function startProfiler(): { rotate(file: string): void } {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  return {
    rotate(file) {
      session.post('Profiler.stop', (err, result) => {
        if (!err) {
          try {
            writeFileSync(file, JSON.stringify(result.profile));
          } catch {
            // directory gone
          }
        }
        session.post('Profiler.start');
      });
    },
  };
}

if (process.env.LAG_PROBE_DIR) start(process.env.LAG_PROBE_DIR);
