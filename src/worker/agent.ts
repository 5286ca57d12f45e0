import { defineAgent, type JobContext, type JobProcess, type VAD } from '@livekit/agents';
import { loadConfig } from '../config/config.js';
import { redactFrameworkLogs } from '../observability/framework-logs.js';
import { exportJobMetrics } from '../observability/job-metrics.js';
import { registry } from '../observability/metrics.js';
import { loadSileroVad } from '../pipeline/vad.js';
import { runCallJob } from './call-job.js';

/**
 * The agent module the framework loads in each job process (ServerOptions.agent points at the
 * compiled file). prewarm runs once per process before it takes a job, so the silero model is
 * loaded while the process idles, not while a caller waits.
 */
export default defineAgent({
  prewarm: async (proc: JobProcess) => {
    proc.userData.vad = await loadSileroVad();
  },
  entry: async (ctx: JobContext) => {
    // The job process installed the framework's own logger when the job started; from here on
    // (RoomIO, AgentSession) its lines go through our redaction, like the worker's.
    redactFrameworkLogs(loadConfig().LOG_LEVEL);
    const vad = (ctx.proc.userData.vad as VAD | undefined) ?? (await loadSileroVad());
    const stopMetrics = exportJobMetrics(registry);
    ctx.addShutdownCallback(() => stopMetrics());
    await runCallJob(ctx, vad);
  },
});
