import { parentPort, workerData } from 'node:worker_threads';
import { initializeLogger, type JobProcess } from '@livekit/agents';

/**
 * Reference only (@livekit/agents 1.9 has no thread executor): what a job would cost as a
 * worker thread. Loads the agent module and runs its prewarm inside this thread, then
 * reports ready and idles until terminated.
 */
const { agentPath } = workerData as { agentPath: string };
initializeLogger({ pretty: false, level: 'warn' });
const mod = (await import(agentPath)) as { default: { prewarm?: (p: JobProcess) => unknown } };
await mod.default.prewarm?.({ pid: process.pid, userData: {} } as unknown as JobProcess);
parentPort?.postMessage({ ready: performance.timeOrigin + performance.now() });
