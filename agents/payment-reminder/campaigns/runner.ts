import type pg from 'pg';
import { withOrganization } from '../../../src/persistence/tenant-scope.js';
import { sleep } from '../../../src/util/async.js';
import type { ReminderSettings } from '../settings.js';
import { type CampaignTask, claimTask, loadTask, recordUnreached, setCampaignStatus } from './store.js';

/**
 * One campaign task's call: checked, claimed once, dialled through the outbound path (which
 * runs the compliance check right before the dial), followed to its end. A paid invoice stops
 * the campaign; a paused one waits; no answer or busy is tried again later while attempts
 * remain; a dial compliance refused waits until it is allowed.
 */

export interface CampaignDialler {
  place(call: {
    number: string;
    customerId: string;
    organizationId: string;
    settings: ReminderSettings;
  }): Promise<{ room: string }>;
  outcome(room: string): Promise<{ call_id: string; status: string; reason: string | null }>;
}

export interface CampaignRunnerDeps {
  /** The worker role's pool. */
  pool: pg.Pool;
  dialler: CampaignDialler;
  /** Opens customers.phone_encrypted (the PII key ring). */
  decrypt(sealed: Buffer): string;
  businessName?: string;
  /** How long to wait for the call's own outcome record before closing its task (default 10 s). */
  settleMs?: number;
}

export type TaskResult =
  | { kind: 'skipped'; reason: string }
  | { kind: 'stopped'; reason: 'paid' }
  | { kind: 'later'; notBefore: Date; reason: string }
  | { kind: 'called'; status: string; reason: string | null; room: string }
  /** Nobody reached and attempts remain: the queue tries again after its backoff. */
  | { kind: 'retry'; reason: string };

const PAUSE_RECHECK_MS = 15 * 60_000;
const SETTLE_MS = 10_000;

function unreachedStatus(reason: string): 'busy' | 'no_answer' | 'failed' | 'blocked' {
  if (reason.startsWith('busy')) return 'busy';
  if (reason.startsWith('no_answer') || reason.startsWith('declined')) return 'no_answer';
  if (reason.startsWith('compliance_blocked')) return 'blocked';
  return 'failed';
}

const nextAllowed = (reason: string) => {
  const at = reason.match(/next allowed (\S+)\)/)?.[1];
  return at ? new Date(at) : null;
};

export async function runCampaignTask(
  deps: CampaignRunnerDeps,
  job: { organizationId: string; taskId: string },
  now = new Date(),
): Promise<TaskResult> {
  const scoped = <T>(fn: (client: pg.PoolClient) => Promise<T>) =>
    withOrganization(deps.pool, job.organizationId, fn);
  type Ready = { result: TaskResult } | { task: CampaignTask; sealedPhone: Buffer | null };
  const ready = await scoped(async (client): Promise<Ready> => {
    const task = await loadTask(client, job.taskId);
    if (!task) return { result: { kind: 'skipped', reason: 'no such task' } };
    if (task.invoiceStatus === 'paid') {
      await setCampaignStatus(client, task.campaignId, 'completed');
      return { result: { kind: 'stopped', reason: 'paid' } };
    }
    if (task.campaignStatus === 'paused') {
      const notBefore =
        task.pausedUntil && task.pausedUntil > now
          ? task.pausedUntil
          : new Date(now.getTime() + PAUSE_RECHECK_MS);
      return { result: { kind: 'later', notBefore, reason: 'campaign paused' } };
    }
    if (task.campaignStatus !== 'active')
      return { result: { kind: 'skipped', reason: `campaign ${task.campaignStatus}` } };
    if (task.dueAt > now) return { result: { kind: 'later', notBefore: task.dueAt, reason: 'not due yet' } };
    // One attempt at a time, and never two dials for one attempt: only a pending task is taken.
    if (!(await claimTask(client, task.id)))
      return { result: { kind: 'skipped', reason: `task ${task.status}` } };
    const phone = await client.query<{ phone_encrypted: Buffer | null }>(
      'SELECT phone_encrypted FROM customers WHERE id = $1',
      [task.customerId],
    );
    return { task, sealedPhone: phone.rows[0]?.phone_encrypted ?? null };
  });
  if ('result' in ready) return ready.result;
  const { task } = ready;
  const unreached = (reason: string, conversationId?: string) => {
    const status = unreachedStatus(reason);
    const retry = status === 'blocked' || task.attempts + 1 < task.maxAttempts;
    return scoped((client) =>
      recordUnreached(
        client,
        task,
        { organizationId: job.organizationId, status, reason, ...(conversationId ? { conversationId } : {}) },
        retry,
      ),
    ).then(() => ({ status, retry }));
  };
  if (!ready.sealedPhone) {
    await unreached('failed: the customer has no phone number');
    return { kind: 'skipped', reason: 'no phone number' };
  }
  const settings: ReminderSettings = {
    customerId: task.customerId,
    paymentRecordId: task.paymentRecordId,
    taskId: task.id,
    campaignId: task.campaignId,
    ...(task.template ? { templateName: task.template } : {}),
    businessName: deps.businessName ?? 'Northwind Billing',
    verifyWith: 'postcode',
    promiseMaxDays: 14,
  };
  const { room } = await deps.dialler.place({
    number: deps.decrypt(ready.sealedPhone),
    customerId: task.customerId,
    organizationId: job.organizationId,
    settings,
  });
  const outcome = await deps.dialler.outcome(room);
  if (outcome.status === 'COMPLETED') {
    // The flow's outcome record completes the task; give the persister a moment, then close it.
    const deadline = Date.now() + (deps.settleMs ?? SETTLE_MS);
    for (;;) {
      const state = await scoped((client) => loadTask(client, task.id));
      if (state?.status !== 'in_progress' || Date.now() > deadline) break;
      await sleep(500);
    }
    await scoped((client) =>
      client.query(
        `UPDATE tasks SET status = 'completed', completed_at = now(), context = context || jsonb_build_object('end_reason', $2::text)
          WHERE id = $1 AND status = 'in_progress'`,
        [task.id, outcome.reason],
      ),
    );
    return { kind: 'called', status: outcome.status, reason: outcome.reason, room };
  }
  const reason = outcome.reason ?? outcome.status.toLowerCase();
  const { status, retry } = await unreached(reason, outcome.call_id);
  if (status === 'blocked') {
    return {
      kind: 'later',
      notBefore: nextAllowed(reason) ?? new Date(now.getTime() + PAUSE_RECHECK_MS),
      reason,
    };
  }
  return retry ? { kind: 'retry', reason } : { kind: 'called', status: outcome.status, reason, room };
}
