import { randomUUID } from 'node:crypto';
import { requireUuid, UsageError } from '../../src/cli/control-common.js';
import { placeCall, waitForOutcome } from '../../src/cli/dial.js';
import { serveQueueWorker } from '../../src/cli/queue-worker.js';
import { type Config, loadConfig } from '../../src/config/config.js';
import { serviceDatabaseUrl } from '../../src/config/service-database.js';
import { recognizerProblem } from '../../src/conversation/flow-package.js';
import { createPool } from '../../src/persistence/db.js';
import { PiiKeyRing } from '../../src/persistence/pii.js';
import { feedbackSurvey } from './index.js';
import { enqueueSurveyCall, startSurveyWorker, surveyQueue } from './queue.js';
import { SurveyPhoneError, swedishPhoneNumber } from './store/survey-calls.js';
import { type SurveyCallResult, type SurveyTriggerDeps, triggerSurveyCall } from './trigger.js';

const FLOW = 'feedback-survey';
/** Ringing, the survey's 120 s limit, and the persister's lag, with room to spare. */
const OUTCOME_TIMEOUT_MS = (30 + 120 + 90) * 1000;

export interface VisitOptions {
  business: string;
  customer: string;
  verification?: string;
  budget?: string;
  json?: boolean;
}

function visitRequest(options: VisitOptions) {
  let phone: string;
  try {
    phone = swedishPhoneNumber(options.customer);
  } catch (err) {
    if (err instanceof SurveyPhoneError) throw new UsageError(`--customer: ${err.message}`);
    throw err;
  }
  const budget = options.budget === undefined ? undefined : Number(options.budget);
  if (budget !== undefined && !(Number.isInteger(budget) && budget >= 60 && budget <= 120)) {
    throw new UsageError(
      `--budget must be a whole number of seconds from 60 to 120 (got "${options.budget}")`,
    );
  }
  return {
    organizationId: requireUuid(options.business, '--business'),
    verificationId: options.verification ? requireUuid(options.verification, '--verification') : randomUUID(),
    customerPhone: phone,
    ...(budget !== undefined ? { budgetSeconds: budget } : {}),
  };
}

/** The trigger's dependencies in this process: the worker role's pool, the key ring, our dialler. */
function triggerDeps(cfg: Config): SurveyTriggerDeps & { close(): Promise<void> } {
  const pool = createPool(serviceDatabaseUrl(cfg, 'worker'), { max: 4 });
  return {
    pool,
    sealer: PiiKeyRing.fromConfig(cfg),
    dialler: {
      place: async (call) => {
        // Swedish question text cannot be heard by pocketsphinx: refuse before dialling.
        const problem = recognizerProblem(feedbackSurvey, call.settings, cfg.resolvedProvider);
        if (problem) throw new UsageError(problem);
        return placeCall(cfg, {
          number: call.number,
          flow: FLOW,
          settings: call.settings,
          organizationId: call.organizationId,
        });
      },
      outcome: (room) => waitForOutcome(cfg, room, OUTCOME_TIMEOUT_MS),
    },
    close: () => pool.end(),
  };
}

function describe(result: SurveyCallResult): string {
  const head = `survey call ${result.surveyCallId} ${result.status}`;
  if (result.kind === 'later')
    return `${head}: outside calling hours, not before ${result.notBefore.toISOString()}`;
  if (result.kind === 'done') return `${head}: ${result.reason}`;
  return `${head}  room ${result.room}`;
}

/** `survey call`: one visit now, waiting for the call's end unless `wait` is false. */
export async function surveyCallAction(options: VisitOptions & { wait: boolean }): Promise<void> {
  const request = visitRequest(options);
  const cfg = loadConfig();
  const deps = triggerDeps(cfg);
  try {
    const result = await triggerSurveyCall(deps, request, { wait: options.wait });
    const printable = { ...result, verificationId: request.verificationId };
    console.log(options.json ? JSON.stringify(printable) : describe(result));
    if (result.kind === 'later' || (result.kind === 'finished' && result.status === 'failed'))
      process.exitCode = 2;
  } finally {
    await deps.close();
  }
}

/** `survey enqueue`: what a business's system does per verified visit. */
export async function surveyEnqueueAction(options: VisitOptions): Promise<void> {
  const request = visitRequest(options);
  const cfg = loadConfig();
  const queue = surveyQueue({ url: cfg.REDIS_URL });
  try {
    const queued = await enqueueSurveyCall(queue, request, PiiKeyRing.fromConfig(cfg));
    const printable = { ...queued, verificationId: request.verificationId };
    console.log(
      options.json
        ? JSON.stringify(printable)
        : `${queued.added ? 'queued' : 'already queued'} ${queued.jobId}`,
    );
  } finally {
    await queue.close();
  }
}

/** `survey worker`: places the queued calls until SIGINT/SIGTERM. */
export async function surveyWorkerAction(options: { concurrency: string; perMinute: string }): Promise<void> {
  const concurrency = Number(options.concurrency);
  const perMinute = Number(options.perMinute);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new UsageError('--concurrency must be a whole number ≥ 1');
  if (!Number.isInteger(perMinute) || perMinute < 1)
    throw new UsageError('--per-minute must be a whole number ≥ 1');
  const cfg = loadConfig();
  const deps = triggerDeps(cfg);
  const worker = startSurveyWorker({
    connection: { url: cfg.REDIS_URL, maxRetriesPerRequest: null },
    deps,
    sealer: PiiKeyRing.fromConfig(cfg),
    concurrency,
    perMinute,
  });
  await serveQueueWorker('survey job', worker, () => deps.close());
}
