import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { requireUuid, UsageError } from '../../src/cli/control-common.js';
import { placeCall, waitForOutcome } from '../../src/cli/dial.js';
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

interface VisitOptions {
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

/** `voice-agent survey call|enqueue|worker`: the survey's outbound trigger. */
export function surveyCallCommands(survey: Command): void {
  const visit = (command: Command) =>
    command
      .requiredOption('--business <id>', 'the business (its organization id)')
      .requiredOption('--customer <phone>', "the customer's Swedish number (+46…)")
      .option('--verification <id>', 'the verified visit (UUID; one survey per visit); default a new one')
      .option(
        '--budget <seconds>',
        "time budget for the questions, 60–120 s (default: the business's, else 90)",
      )
      .option('--json', 'print JSON');

  visit(survey.command('call'))
    .description(
      "survey one verified visit's customer now: select the questions and dial (waits for the end)",
    )
    .option('--no-wait', 'return once the call is placed')
    .action(async (options: VisitOptions & { wait: boolean }) => {
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
    });

  visit(survey.command('enqueue'))
    .description("add a verified visit to the survey queue (what a business's system does per visit)")
    .action(async (options: VisitOptions) => {
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
    });

  survey
    .command('worker')
    .description('place the queued survey calls, each within its business calling hours')
    .option('--concurrency <n>', 'calls at once', '4')
    .option('--per-minute <n>', 'calls started per minute at most', '10')
    .action(async (options: { concurrency: string; perMinute: string }) => {
      const cfg = loadConfig();
      const deps = triggerDeps(cfg);
      const worker = startSurveyWorker({
        connection: { url: cfg.REDIS_URL, maxRetriesPerRequest: null },
        deps,
        sealer: PiiKeyRing.fromConfig(cfg),
        concurrency: Number(options.concurrency),
        perMinute: Number(options.perMinute),
      });
      worker.on('failed', (job, err) => console.error(`survey job ${job?.id ?? '?'} failed: ${err.message}`));
      worker.on('completed', (job, result) => console.log(`survey job ${job.id} ${JSON.stringify(result)}`));
      console.log('survey worker ready');
      const stop = async () => {
        await worker.close();
        await deps.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await new Promise(() => undefined);
    });
}
