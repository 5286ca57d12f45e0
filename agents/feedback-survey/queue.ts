import { type ConnectionOptions, DelayedError, type Job, Queue, Worker } from 'bullmq';
import { z } from 'zod';
import { swedishPhoneNumber } from './store/survey-calls.js';
import { type SurveyCallRequest, type SurveyTriggerDeps, triggerSurveyCall } from './trigger.js';

/**
 * The survey queue: a business's system adds one job per verified visit; `survey worker`
 * places each call within the business's calling hours. A job's id is the visit's, so the
 * same visit sent twice is one job (and the database's one survey call per verification id
 * stands behind it once the job is gone). The customer's number is sealed with the PII key
 * ring before it enters Redis.
 */

export const SURVEY_QUEUE = 'feedback-survey-calls';
const JOB_NAME = 'survey-call';

const jobData = z.strictObject({
  organizationId: z.uuid(),
  verificationId: z.uuid(),
  /** Sealed (PiiKeyRing.sealText): Redis never holds the number in clear. */
  sealedPhone: z.string().min(1),
  budgetSeconds: z.number().int().optional(),
});
export type SurveyJobData = z.infer<typeof jobData>;

export interface TextSealer {
  sealText(text: string): string;
  openText(text: string): string;
}

/** BullMQ job ids may not contain ':'; one id per business and visit. */
export function surveyJobId(organizationId: string, verificationId: string): string {
  return `survey-${organizationId}-${verificationId}`;
}

export function surveyQueue(connection: ConnectionOptions): Queue<SurveyJobData> {
  return new Queue<SurveyJobData>(SURVEY_QUEUE, { connection });
}

/** Adds the visit's job; `added` is false when the visit was sent before. */
export async function enqueueSurveyCall(
  queue: Queue<SurveyJobData>,
  request: SurveyCallRequest,
  sealer: TextSealer,
): Promise<{ jobId: string; added: boolean }> {
  const phone = swedishPhoneNumber(request.customerPhone);
  const data = jobData.parse({
    organizationId: request.organizationId,
    verificationId: request.verificationId,
    sealedPhone: sealer.sealText(phone),
    ...(request.budgetSeconds !== undefined ? { budgetSeconds: request.budgetSeconds } : {}),
  });
  const jobId = surveyJobId(request.organizationId, request.verificationId);
  const before = await queue.getJob(jobId);
  if (before) return { jobId, added: false };
  await queue.add(JOB_NAME, data, {
    jobId,
    // A dial that failed for a passing reason (bridge busy, Redis blip) is tried again; an
    // answered or unanswered call is an outcome and completes the job.
    attempts: 4,
    backoff: { type: 'exponential', delay: 30_000 },
    removeOnComplete: { age: 7 * 86_400 },
    removeOnFail: { age: 30 * 86_400 },
  });
  return { jobId, added: true };
}

export interface SurveyWorkerOptions {
  connection: ConnectionOptions;
  deps: SurveyTriggerDeps;
  sealer: TextSealer;
  /** Calls in progress at once (each job waits for its call to end). */
  concurrency?: number;
  /** At most this many calls started per minute by this queue (BullMQ's limiter). */
  perMinute?: number;
}

/** What a finished job keeps in Redis: ids and outcome, never the number. */
async function processSurveyJob(
  job: Job<SurveyJobData>,
  token: string | undefined,
  options: SurveyWorkerOptions,
) {
  const data = jobData.parse(job.data);
  const result = await triggerSurveyCall(
    options.deps,
    {
      organizationId: data.organizationId,
      verificationId: data.verificationId,
      customerPhone: options.sealer.openText(data.sealedPhone),
      ...(data.budgetSeconds !== undefined ? { budgetSeconds: data.budgetSeconds } : {}),
    },
    { wait: true },
  );
  if (result.kind === 'later') {
    // Outside calling hours: the same job waits for the business's next window.
    await job.moveToDelayed(result.notBefore.getTime(), token);
    throw new DelayedError();
  }
  const { kind, surveyCallId, status } = result;
  return { kind, surveyCallId, status, ...('room' in result ? { room: result.room } : {}) };
}

export function startSurveyWorker(options: SurveyWorkerOptions): Worker<SurveyJobData> {
  return new Worker<SurveyJobData>(SURVEY_QUEUE, (job, token) => processSurveyJob(job, token, options), {
    connection: options.connection,
    concurrency: options.concurrency ?? 4,
    ...(options.perMinute ? { limiter: { max: options.perMinute, duration: 60_000 } } : {}),
  });
}
