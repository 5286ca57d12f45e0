import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AggregatorRegistry,
  type MetricObjectWithValues,
  type MetricValue,
  type Registry,
} from 'prom-client';
import { isAlive } from '../util/process.js';

/**
 * Each call runs in its own job process (the framework's process executor), so the latency
 * histograms, error counters and producer gauges a call updates live in that process, not in
 * the worker that serves /metrics. Job processes therefore export their registry as JSON into
 * a per-worker folder; the worker aggregates those files with its own registry on every
 * scrape (prom-client's AggregatorRegistry, the same merge it does for cluster workers).
 *
 * Counters and histograms of finished processes are folded into `retired.json` so totals
 * survive; gauges of finished processes are dropped (a dead process has no buffer, no call).
 */

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

export const METRICS_DIR_ENV = 'VOICE_AGENT_METRICS_DIR';
const RETIRED = 'retired.json';

/** In a job process: write the registry every `intervalMs` and at exit. Returns a stop function. */
export function exportJobMetrics(registry: Registry, dir = process.env[METRICS_DIR_ENV], intervalMs = 2000) {
  if (!dir) return async () => {};
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${process.pid}.json`);
  let writing = false;
  const write = async () => {
    if (writing) return;
    writing = true;
    try {
      const json = await registry.getMetricsAsJSON();
      writeAtomic(file, JSON.stringify(json));
    } catch {
      // metrics must never disturb a call
    } finally {
      writing = false;
    }
  };
  const timer = setInterval(() => void write(), intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await write();
  };
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

function readJson(path: string): MetricsJson | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as MetricsJson;
  } catch {
    return undefined;
  }
}

/**
 * In the worker: the folder job processes write to (emptied at start: a new worker starts its
 * counters at zero, like any restarted process) and the merged view for /metrics.
 */
export class JobMetricsCollector {
  constructor(readonly dir: string) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }

  /** Folds finished processes into retired.json, then merges everything with `own`. */
  async registry(own: Registry): Promise<Registry> {
    const live: MetricsJson[] = [];
    const dead: MetricsJson[] = [];
    for (const name of readdirSync(this.dir)) {
      const m = /^(\d+)\.json$/.exec(name);
      if (!m) continue;
      const json = readJson(join(this.dir, name));
      if (!json) continue;
      if (isAlive(Number(m[1]))) live.push(json);
      else {
        dead.push(json.filter((metric) => String(metric.type) !== 'gauge'));
        rmSync(join(this.dir, name), { force: true });
      }
    }
    const retiredPath = join(this.dir, RETIRED);
    const retired = readJson(retiredPath);
    if (dead.length > 0) {
      const merged = AggregatorRegistry.aggregate([...(retired ? [retired] : []), ...dead]);
      writeAtomic(retiredPath, JSON.stringify(await merged.getMetricsAsJSON()));
    }
    const parts: MetricsJson[] = [await own.getMetricsAsJSON(), ...live];
    const allRetired = readJson(retiredPath);
    if (allRetired) parts.push(allRetired);
    return AggregatorRegistry.aggregate(parts);
  }
}
