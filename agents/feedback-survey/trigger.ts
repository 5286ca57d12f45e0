import type pg from 'pg';
import { todayIn } from '../../src/conversation/clock.js';
import { withOrganization } from '../../src/persistence/tenant-scope.js';
import { sleep } from '../../src/util/async.js';
import { nextCallingTime } from './calling-hours.js';
import type { SurveySettings } from './settings.js';
import { type OpenedSurveyCall, openSurveyCall, type PhoneSealer } from './store/survey-calls.js';
import {
  loadBusinessSettings,
  markConnecting,
  markUnfinished,
  recordRoom,
  type SurveyCallState,
  surveyCallPlan,
  surveyCallStatus,
} from './store/survey-plan.js';

/** One verified visit whose customer is to be surveyed (what a business's system sends). */
export interface SurveyCallRequest {
  organizationId: string;
  verificationId: string;
  customerPhone: string;
  budgetSeconds?: number;
}

/** What places and watches the call (the outbound path; fakes in unit tests). */
export interface SurveyDialler {
  /** Dispatches the agent to dial `number` with `settings`; resolves with the call's room. */
  place(call: {
    number: string;
    settings: SurveySettings;
    organizationId: string;
  }): Promise<{ room: string }>;
  /** The call's outcome once the persister finalized it. */
  outcome(room: string): Promise<{ call_id: string; status: string; reason: string | null }>;
}

export interface SurveyTriggerDeps {
  /** The worker role's pool (RLS: every query is scoped to the business). */
  pool: pg.Pool;
  sealer: PhoneSealer;
  dialler: SurveyDialler;
  now?: () => Date;
}

export type SurveyCallResult =
  | {
      kind: 'placed' | 'finished';
      surveyCallId: string;
      status: SurveyCallState;
      created: boolean;
      room: string;
    }
  /** Outside the business's calling hours: nothing dialled; try again at notBefore. */
  | { kind: 'later'; surveyCallId: string; status: SurveyCallState; created: boolean; notBefore: Date }
  /** The visit's survey call was placed before (or needs no call): nothing dialled again. */
  | { kind: 'done'; surveyCallId: string; status: SurveyCallState; created: boolean; reason: string };

/**
 * The survey trigger for one verified visit: opens the survey call (counting the customer and
 * selecting the questions, once per verification id), and places the call when the business
 * may be called now. With `wait`, watches the call to its end and marks a survey the call did
 * not finish (not answered, hung up) as failed with the call's reason.
 */
export async function triggerSurveyCall(
  deps: SurveyTriggerDeps,
  request: SurveyCallRequest,
  options: { wait?: boolean } = {},
): Promise<SurveyCallResult> {
  const now = deps.now?.() ?? new Date();
  const scoped = <T>(fn: (client: pg.PoolClient) => Promise<T>) =>
    withOrganization(deps.pool, request.organizationId, fn);
  const prepared = await scoped(async (client) => {
    const business = await loadBusinessSettings(client);
    const opened: OpenedSurveyCall = await openSurveyCall(
      client,
      request.organizationId,
      {
        verificationId: request.verificationId,
        customerPhone: request.customerPhone,
        date: todayIn(now, business.hours.timeZone),
        budgetSeconds: request.budgetSeconds ?? business.budgetSeconds,
      },
      deps.sealer,
    );
    const status = await surveyCallStatus(client, opened.id);
    const plan = await surveyCallPlan(client, opened.id, opened.selection.selected, business);
    return { business, opened, status, plan };
  });
  const { opened, status, plan } = prepared;
  const base = { surveyCallId: opened.id, created: opened.created };
  if (status !== 'initiated')
    return { kind: 'done', ...base, status, reason: `survey call is ${status} already` };
  if (plan.questions.length === 0) {
    await scoped((client) => markUnfinished(client, opened.id, { reason: 'no_questions_selected' }));
    return { kind: 'done', ...base, status: 'failed', reason: 'no question is due for this customer' };
  }
  const notBefore = nextCallingTime(now, prepared.business.hours);
  if (notBefore.getTime() > now.getTime()) return { kind: 'later', ...base, status, notBefore };

  await scoped((client) => markConnecting(client, opened.id));
  let room: string;
  try {
    ({ room } = await deps.dialler.place({
      number: request.customerPhone,
      settings: plan,
      organizationId: request.organizationId,
    }));
  } catch (err) {
    // Refused before anything rang (allowlist, rate, no agent): the survey call says why.
    const reason = `dial_refused: ${err instanceof Error ? err.message : String(err)}`;
    await scoped((client) => markUnfinished(client, opened.id, { reason }));
    throw err;
  }
  await scoped((client) => recordRoom(client, opened.id, room));
  if (!options.wait) return { kind: 'placed', ...base, status: 'connecting', room };

  const outcome = await deps.dialler.outcome(room);
  const final = await settledStatus(
    () => scoped((client) => surveyCallStatus(client, opened.id)),
    outcome.status,
  );
  if (!TERMINAL.has(final)) {
    await scoped((client) =>
      markUnfinished(client, opened.id, {
        conversationId: outcome.call_id,
        reason: outcome.reason ?? outcome.status.toLowerCase(),
      }),
    );
  }
  return {
    kind: 'finished',
    ...base,
    status: await scoped((client) => surveyCallStatus(client, opened.id)),
    room,
  };
}

const TERMINAL = new Set<SurveyCallState>(['completed', 'failed', 'timeout']);
const SETTLE_MS = 10_000;

/**
 * The survey call's status once the call's own records are in: a call that ended normally
 * wrote its survey status before it ended (same event stream), but give the persister a
 * moment when it has not yet; a call that failed (not answered, hung up) writes none.
 */
async function settledStatus(
  read: () => Promise<SurveyCallState>,
  callStatus: string,
): Promise<SurveyCallState> {
  const deadline = Date.now() + (callStatus === 'COMPLETED' ? SETTLE_MS : 0);
  for (;;) {
    const status = await read();
    if (TERMINAL.has(status) || Date.now() >= deadline) return status;
    await sleep(500);
  }
}
