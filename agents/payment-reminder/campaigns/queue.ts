import { type ConnectionOptions, DelayedError, type Job, Queue, Worker } from 'bullmq';
import { z } from 'zod';
import { type CampaignRunnerDeps, runCampaignTask } from './runner.js';

/**
 * The campaign runner on BullMQ: one job per campaign task (its id is the task's, so a task is
 * queued once), delayed until the step is due; the worker places the call, re-delays a job
 * that may not run yet (paused campaign, compliance window) and lets BullMQ's backoff retry an
 * attempt that reached nobody.
 */

export const CAMPAIGN_QUEUE = 'payment-campaign-tasks';
const jobData = z.strictObject({ organizationId: z.uuid(), taskId: z.uuid() });
export type CampaignJob = z.infer<typeof jobData>;

export const taskJobId = (taskId: string) => `reminder-task-${taskId}`;

export function campaignQueue(connection: ConnectionOptions): Queue<CampaignJob> {
  return new Queue<CampaignJob>(CAMPAIGN_QUEUE, { connection });
}

/** Queues each task for when it is due; a task queued before keeps its job. */
export async function scheduleTasks(
  queue: Queue<CampaignJob>,
  organizationId: string,
  tasks: readonly { id: string; dueAt: Date; maxAttempts: number }[],
  options: { backoffMs?: number; now?: number } = {},
): Promise<number> {
  const now = options.now ?? Date.now();
  let added = 0;
  for (const task of tasks) {
    const jobId = taskJobId(task.id);
    const existing = await queue.getJob(jobId);
    const delay = Math.max(0, task.dueAt.getTime() - now);
    if (existing) {
      if (await existing.isDelayed()) await existing.changeDelay(delay);
      continue;
    }
    await queue.add(
      'call',
      { organizationId, taskId: task.id },
      {
        jobId,
        delay,
        // The task's own attempt count decides when to give up; BullMQ only spaces the tries.
        attempts: task.maxAttempts + 1,
        backoff: { type: 'exponential', delay: options.backoffMs ?? 15 * 60_000 },
        removeOnComplete: { age: 30 * 86_400 },
        removeOnFail: { age: 30 * 86_400 },
      },
    );
    added++;
  }
  return added;
}

async function processTask(job: Job<CampaignJob>, token: string | undefined, deps: CampaignRunnerDeps) {
  const result = await runCampaignTask(deps, jobData.parse(job.data));
  if (result.kind === 'later') {
    await job.moveToDelayed(result.notBefore.getTime(), token);
    throw new DelayedError();
  }
  if (result.kind === 'retry') throw new Error(`not reached, will retry: ${result.reason}`);
  return result;
}

export function startCampaignWorker(options: {
  connection: ConnectionOptions;
  deps: CampaignRunnerDeps;
  concurrency?: number;
  perMinute?: number;
}): Worker<CampaignJob> {
  return new Worker<CampaignJob>(CAMPAIGN_QUEUE, (job, token) => processTask(job, token, options.deps), {
    connection: options.connection,
    concurrency: options.concurrency ?? 4,
    ...(options.perMinute ? { limiter: { max: options.perMinute, duration: 60_000 } } : {}),
  });
}
