import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AgentServer,
  InferenceRunner,
  initializeLogger,
  type JobRequest,
  ServerOptions,
} from '@livekit/agents';
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import { EventProducer } from '../events/producer.js';
import { redactFrameworkLogs } from '../observability/framework-logs.js';
import { startHttpServer } from '../observability/http.js';
import { JobMetricsCollector, METRICS_DIR_ENV } from '../observability/job-metrics.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { registry } from '../observability/metrics.js';
import { loadSileroVad } from '../pipeline/vad.js';
import { withTimeout } from '../util/async.js';
import { flowResourcePool, runCallJob } from './call-job.js';
import { freeTcpPort } from './free-port.js';
import { SharedProcessServer } from './shared-server.js';
import { LoopUtilization, WorkerCpu, workerLoad } from './worker-load.js';

export interface WorkerRunOptions {
  /** dev: pretty logs, one warm process; start: production settings for fleets. */
  mode: 'dev' | 'start';
  /** Override the HTTP port (0 = any free port; tests). */
  httpPort?: number;
}

/** The agent module each job process imports (compiled next to this file). */
export const AGENT_MODULE = fileURLToPath(new URL('./agent.js', import.meta.url));

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
  // The framework's own lines carry SIP identities (`sip_+1…`): route them through ours.
  redactFrameworkLogs(cfg.LOG_LEVEL);
  skipUnusedEotInference();
  const log = createLogger({ name: 'worker', level: cfg.LOG_LEVEL });
  let draining = false;
  const calls =
    cfg.WORKER_EXECUTOR === 'shared'
      ? await sharedExecutor(cfg, log, () => draining)
      : await processExecutor(cfg, options, log, () => draining);

  const http = await startHttpServer(
    options.httpPort ?? cfg.HTTP_PORT,
    calls.registry,
    {
      ready: () =>
        draining
          ? { ready: false, reason: 'draining' }
          : calls.activeCalls() >= cfg.MAX_CONCURRENT_CALLS
            ? { ready: false, reason: 'at maximum concurrent calls' }
            : { ready: true },
      details: () => ({
        worker_id: calls.id(),
        agent_name: cfg.AGENT_NAME,
        executor: cfg.WORKER_EXECUTOR,
        active_calls: calls.activeCalls(),
        draining,
      }),
    },
    { host: cfg.HTTP_HOST, bearerToken: cfg.HTTP_BEARER_TOKEN },
  );
  const address = http.address();
  log.info(
    {
      agent_name: cfg.AGENT_NAME,
      livekit: cfg.LIVEKIT_URL,
      provider: cfg.resolvedProvider,
      flow: cfg.FLOW,
      executor: cfg.WORKER_EXECUTOR,
      http_port: typeof address === 'object' && address ? address.port : undefined,
    },
    'worker starting',
  );

  let stopping: Promise<void> | undefined;
  /** Drain, end the rest, flush and close the producer (inside calls.close()), then exit. */
  const shutdown = (reason: string, exitCode: number) => {
    stopping ??= (async () => {
      draining = true;
      log.info({ reason, active_calls: calls.activeCalls() }, 'draining');
      try {
        await calls.drain(cfg.DRAIN_TIMEOUT_SECONDS * 1000);
      } catch (err) {
        log.warn({ err: String(err) }, 'drain timed out; ending remaining calls');
      }
      await calls.close().catch((err) => log.warn({ err: String(err) }, 'closing calls failed'));
      await new Promise<void>((resolve) => http.close(() => resolve()));
      log.info({ reason }, 'worker stopped');
      process.exit(exitCode);
    })();
    return stopping;
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.once('SIGINT', () => void shutdown('SIGINT', 0));

  try {
    await calls.run();
  } catch (err) {
    log.error({ err: String(err) }, 'lost LiveKit for good');
  }
  // run() ends on its own only when LiveKit stayed unreachable past the executor's retries.
  // The calls in hand still have events to hand over: drain them and close the producer
  // before exiting, rather than exiting with their events in memory.
  await (stopping ?? shutdown('livekit-lost', 1));
}

/** How long closing may take once the drain is over (each call's goodbye is bounded too). */
const CLOSE_TIMEOUT_MS = 30_000;

/** What runWorker needs of an executor, whichever runs the calls. */
interface CallExecutor {
  id(): string | undefined;
  activeCalls(): number;
  /** The registry /metrics serves (the process executor merges its job processes' metrics). */
  registry: () => Promise<Registry>;
  run(): Promise<void>;
  drain(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** The framework's AgentServer: a process per call, warm processes kept ready. */
async function processExecutor(
  cfg: Config,
  options: WorkerRunOptions,
  log: Logger,
  draining: () => boolean,
): Promise<CallExecutor> {
  let server: AgentServer | undefined;
  const cpu = new WorkerCpu();
  // Job processes inherit this and write their metrics there (see job-metrics.ts).
  const jobMetrics = new JobMetricsCollector(
    resolve(join(cfg.STACK_DIR, 'run', 'metrics', String(process.pid))),
  );
  process.env[METRICS_DIR_ENV] = jobMetrics.dir;

  const requestFunc = async (job: JobRequest) => {
    const active = server?.activeJobs.length ?? 0;
    if (draining() || active >= cfg.MAX_CONCURRENT_CALLS) {
      log.warn({ active, max: cfg.MAX_CONCURRENT_CALLS, draining: draining() }, 'refusing a call');
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
        workerLoad(
          s.activeJobs.length,
          cfg.MAX_CONCURRENT_CALLS,
          cfg.WORKER_LOAD_INCLUDE_CPU ? cpu.read() : 0,
        ),
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
  const s = server;
  return {
    id: () => s.id,
    activeCalls: () => s.activeJobs.length,
    registry: () => jobMetrics.registry(registry),
    run: () => s.run(),
    drain: (ms) => s.drain(ms),
    // close() can wait forever on a job process that is still initializing (framework
    // behaviour in 1.9); calls have had their drain time and their goodbye by now.
    close: () => withTimeout(s.close(), CLOSE_TIMEOUT_MS, 'closing the agent server'),
  };
}

/** Every call inside this process (see shared-server.ts); silero is loaded once, up front. */
async function sharedExecutor(cfg: Config, log: Logger, draining: () => boolean): Promise<CallExecutor> {
  const vad = await loadSileroVad();
  const cpu = new WorkerCpu();
  const loop = new LoopUtilization();
  // One producer and one set of flow resources for every call in this process (see SharedCallResources).
  const resources = {
    producer: EventProducer.fromConfig(cfg, log),
    flowResources: flowResourcePool(cfg, log, 10),
  };
  const server = new SharedProcessServer({
    wsUrl: cfg.LIVEKIT_URL,
    apiKey: cfg.LIVEKIT_API_KEY,
    apiSecret: cfg.LIVEKIT_API_SECRET,
    agentName: cfg.AGENT_NAME,
    userData: { vad },
    entry: (ctx) => runCallJob(ctx, vad, resources),
    accept: (active) => {
      if (draining() || active >= cfg.MAX_CONCURRENT_CALLS) {
        log.warn({ active, max: cfg.MAX_CONCURRENT_CALLS, draining: draining() }, 'refusing a call');
        return false;
      }
      return true;
    },
    load: (active) =>
      workerLoad(
        active,
        cfg.MAX_CONCURRENT_CALLS,
        cfg.WORKER_LOAD_INCLUDE_CPU ? Math.max(cpu.read(), loop.read()) : 0,
      ),
    loadThreshold: cfg.WORKER_LOAD_THRESHOLD,
    logger: log,
  });
  return {
    id: () => server.id,
    activeCalls: () => server.activeCalls,
    registry: async () => registry,
    run: () => server.run(),
    drain: (ms) => server.drain(ms),
    close: async () => {
      await withTimeout(server.close(), CLOSE_TIMEOUT_MS, 'ending the calls').catch((err: Error) => {
        // Calls still running would emit into a closed producer: end their records now.
        const interrupted = resources.producer.interruptOpenCalls('worker_close_timeout');
        log.warn({ err: err.message, interrupted }, 'calls did not all end in time; recorded as INTERRUPTED');
      });
      // Always, after the calls: their last events are flushed into Redis or the journal here.
      await resources.producer.close();
      await resources.flowResources.close();
    },
  };
}
