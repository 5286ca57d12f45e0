import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AgentServer,
  InferenceRunner,
  initializeLogger,
  type JobRequest,
  ServerOptions,
} from '@livekit/agents';
import type { Config } from '../config/config.js';
import { startHttpServer } from '../observability/http.js';
import { JobMetricsCollector, METRICS_DIR_ENV } from '../observability/job-metrics.js';
import { createLogger } from '../observability/logger.js';
import { registry } from '../observability/metrics.js';
import { freeTcpPort } from './free-port.js';

export interface WorkerRunOptions {
  /** dev: pretty logs, one warm process; start: production settings for fleets. */
  mode: 'dev' | 'start';
  /** Override the HTTP port (0 = any free port; tests). */
  httpPort?: number;
}

/** The agent module each job process imports (compiled next to this file). */
export const AGENT_MODULE = fileURLToPath(new URL('./agent.js', import.meta.url));

/**
 * Load reported to LiveKit: the larger of CPU (1-minute load average per core) and the share
 * of MAX_CONCURRENT_CALLS in use. LiveKit stops dispatching to a worker above
 * WORKER_LOAD_THRESHOLD; requestFunc additionally refuses anything past the maximum, so a
 * burst of dispatches between two load reports cannot overfill the worker.
 */
export function workerLoad(activeCalls: number, maxCalls: number, includeCpu = true): number {
  const cpu = includeCpu ? loadavg()[0]! / availableParallelism() : 0;
  return Math.min(1, Math.max(cpu, activeCalls / maxCalls));
}

/**
 * @livekit/agents 1.9 starts an inference process for its audio end-of-turn model whenever the
 * native binding is installed (~330 MB RSS and a CPU-heavy start per worker). Our sessions
 * take turns on VAD + endpointing and never ask that model, so the worker marks the method as
 * taken with a non-enumerable entry: the framework then skips registering it, and with no
 * enumerable runners it creates no inference process.
 */
export function skipUnusedEotInference(): void {
  const runners = InferenceRunner.registeredRunners as Record<string, string>;
  if (Object.hasOwn(runners, 'lk_eot_audio')) return;
  Object.defineProperty(runners, 'lk_eot_audio', { value: 'unused', enumerable: false });
}

/**
 * Runs the worker until SIGTERM/SIGINT: registers with LiveKit under AGENT_NAME (explicit
 * dispatch only), serves /healthz /readyz /metrics, and drains on the first signal (no new
 * calls, active calls finish within DRAIN_TIMEOUT_SECONDS, then the rest are ended politely
 * by their shutdown callbacks, which also flush their events).
 */
export async function runWorker(cfg: Config, options: WorkerRunOptions): Promise<void> {
  initializeLogger({ pretty: options.mode === 'dev', level: cfg.LOG_LEVEL });
  skipUnusedEotInference();
  const log = createLogger({ name: 'worker', level: cfg.LOG_LEVEL });
  let server: AgentServer | undefined;
  let draining = false;
  // Job processes inherit this and write their metrics there (see job-metrics.ts).
  const jobMetrics = new JobMetricsCollector(
    resolve(join(cfg.STACK_DIR, 'run', 'metrics', String(process.pid))),
  );
  process.env[METRICS_DIR_ENV] = jobMetrics.dir;

  const requestFunc = async (job: JobRequest) => {
    const active = server?.activeJobs.length ?? 0;
    if (draining || active >= cfg.MAX_CONCURRENT_CALLS) {
      log.warn({ active, max: cfg.MAX_CONCURRENT_CALLS, draining }, 'refusing a call');
      await job.reject();
      return;
    }
    await job.accept(cfg.AGENT_NAME, `agent-${job.id}`);
  };

  server = new AgentServer(
    new ServerOptions({
      agent: AGENT_MODULE,
      agentName: cfg.AGENT_NAME,
      wsURL: cfg.LIVEKIT_URL,
      apiKey: cfg.LIVEKIT_API_KEY,
      apiSecret: cfg.LIVEKIT_API_SECRET,
      requestFunc,
      loadFunc: async (s) =>
        workerLoad(s.activeJobs.length, cfg.MAX_CONCURRENT_CALLS, cfg.WORKER_LOAD_INCLUDE_CPU),
      loadThreshold: cfg.WORKER_LOAD_THRESHOLD,
      numIdleProcesses: options.mode === 'dev' ? 1 : cfg.WORKER_IDLE_PROCESSES,
      drainTimeout: cfg.DRAIN_TIMEOUT_SECONDS * 1000,
      // A job process loads silero and the speech providers before it is ready; the framework's
      // 10 s default fails on a saturated machine and the call then waits for a retry.
      initializeProcessTimeout: 30_000,
      // The framework's own health server would take port 8081 (our HTTP_PORT); ours serves it.
      host: '127.0.0.1',
      port: await freeTcpPort('127.0.0.1'),
      logLevel: cfg.LOG_LEVEL,
      production: options.mode === 'start',
    }),
  );

  const http = await startHttpServer(options.httpPort ?? cfg.HTTP_PORT, () => jobMetrics.registry(registry), {
    ready: () =>
      draining
        ? { ready: false, reason: 'draining' }
        : (server?.activeJobs.length ?? 0) >= cfg.MAX_CONCURRENT_CALLS
          ? { ready: false, reason: 'at maximum concurrent calls' }
          : { ready: true },
    details: () => ({
      worker_id: server?.id,
      agent_name: cfg.AGENT_NAME,
      active_calls: server?.activeJobs.length ?? 0,
      draining,
    }),
  });
  const address = http.address();
  log.info(
    {
      agent_name: cfg.AGENT_NAME,
      livekit: cfg.LIVEKIT_URL,
      provider: cfg.resolvedProvider,
      flow: cfg.FLOW,
      http_port: typeof address === 'object' && address ? address.port : undefined,
    },
    'worker starting',
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      draining = true;
      log.info({ signal, active_calls: server?.activeJobs.length ?? 0 }, 'draining');
      try {
        await server?.drain(cfg.DRAIN_TIMEOUT_SECONDS * 1000);
      } catch (err) {
        log.warn({ err: String(err) }, 'drain timed out; ending remaining calls');
      }
      // close() can wait forever on a job process that is still initializing (framework
      // behaviour in 1.9); calls have had their drain time and their goodbye by now.
      await Promise.race([server?.close().catch(() => undefined), new Promise((r) => setTimeout(r, 30_000))]);
      await new Promise<void>((resolve) => http.close(() => resolve()));
      log.info('worker stopped');
      process.exit(0);
    })();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  await server.run();
}
