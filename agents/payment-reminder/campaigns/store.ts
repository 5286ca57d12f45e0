import type pg from 'pg';
import { type EscalationStep, escalationSteps, stepDueAt } from './steps.js';

/** Campaign rows as the runner works them, in a transaction scoped to the organization (RLS). */

export type CampaignStatus = 'draft' | 'active' | 'paused' | 'completed' | 'cancelled';

export interface CampaignTask {
  id: string;
  campaignId: string;
  customerId: string;
  paymentRecordId: string;
  stepIndex: number;
  status: string;
  attempts: number;
  maxAttempts: number;
  dueAt: Date;
  template: string | null;
  campaignStatus: CampaignStatus;
  pausedUntil: Date | null;
  invoiceStatus: string;
}

export async function createCampaign(
  client: pg.ClientBase,
  campaign: {
    organizationId: string;
    name: string;
    customerId: string;
    paymentRecordId: string;
    steps: unknown;
    startDate: Date;
  },
): Promise<string> {
  const steps = escalationSteps.parse(campaign.steps);
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO campaigns (organization_id, name, customer_id, payment_record_id, status, escalation_steps, start_date)
     VALUES ($1, $2, $3, $4, 'draft', $5, $6) RETURNING id`,
    [
      campaign.organizationId,
      campaign.name,
      campaign.customerId,
      campaign.paymentRecordId,
      JSON.stringify(steps),
      campaign.startDate,
    ],
  );
  return rows[0]!.id;
}

/** Activates the campaign and gives each step its task (once: a second start adds none). */
export async function activateCampaign(
  client: pg.ClientBase,
  campaignId: string,
): Promise<{ id: string; dueAt: Date; maxAttempts: number }[]> {
  const campaign = (
    await client.query<{
      organization_id: string;
      customer_id: string;
      payment_record_id: string;
      status: CampaignStatus;
      escalation_steps: unknown;
      start_date: Date;
    }>(
      'SELECT organization_id, customer_id, payment_record_id, status, escalation_steps, start_date FROM campaigns WHERE id = $1 FOR UPDATE',
      [campaignId],
    )
  ).rows[0];
  if (!campaign) throw new Error(`no campaign ${campaignId}`);
  if (campaign.status === 'cancelled' || campaign.status === 'completed')
    throw new Error(`campaign ${campaignId} is ${campaign.status}`);
  await client.query("UPDATE campaigns SET status = 'active', paused_until = NULL WHERE id = $1", [
    campaignId,
  ]);
  const steps: EscalationStep[] = escalationSteps.parse(campaign.escalation_steps);
  for (const [index, step] of steps.entries()) {
    await client.query(
      `INSERT INTO tasks (organization_id, type, priority, customer_id, campaign_id, payment_record_id, status, context,
         max_attempts, step_index, due_at)
       VALUES ($1, 'make_call', $2, $3, $4, $5, 'pending', $6, $7, $8, $9)
       ON CONFLICT (campaign_id, step_index) DO NOTHING`,
      [
        campaign.organization_id,
        step.priority,
        campaign.customer_id,
        campaignId,
        campaign.payment_record_id,
        JSON.stringify(step.template ? { template: step.template } : {}),
        step.max_attempts,
        index,
        stepDueAt(campaign.start_date, step),
      ],
    );
  }
  const { rows } = await client.query<{ id: string; due_at: Date; max_attempts: number }>(
    "SELECT id, due_at, max_attempts FROM tasks WHERE campaign_id = $1 AND status = 'pending' ORDER BY step_index",
    [campaignId],
  );
  return rows.map((row) => ({ id: row.id, dueAt: row.due_at, maxAttempts: row.max_attempts }));
}

export async function setCampaignStatus(
  client: pg.ClientBase,
  campaignId: string,
  status: 'paused' | 'cancelled' | 'completed',
) {
  await client.query(
    "UPDATE campaigns SET status = $2::text, end_date = CASE WHEN $2::text <> 'paused' THEN now() ELSE end_date END WHERE id = $1",
    [campaignId, status],
  );
  if (status !== 'paused') {
    await client.query(
      "UPDATE tasks SET status = 'cancelled' WHERE campaign_id = $1 AND status IN ('pending', 'assigned')",
      [campaignId],
    );
  }
}

export async function loadTask(client: pg.ClientBase, taskId: string): Promise<CampaignTask | null> {
  const row = (
    await client.query(
      `SELECT t.id, t.campaign_id, t.customer_id, t.payment_record_id, t.step_index, t.status, t.attempts, t.max_attempts,
              t.due_at, t.context->>'template' AS template, c.status AS campaign_status, c.paused_until, p.status AS invoice_status
         FROM tasks t JOIN campaigns c ON c.id = t.campaign_id JOIN payment_records p ON p.id = t.payment_record_id
        WHERE t.id = $1`,
      [taskId],
    )
  ).rows[0];
  if (!row) return null;
  return {
    id: row.id,
    campaignId: row.campaign_id,
    customerId: row.customer_id,
    paymentRecordId: row.payment_record_id,
    stepIndex: row.step_index,
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    dueAt: row.due_at,
    template: row.template,
    campaignStatus: row.campaign_status,
    pausedUntil: row.paused_until,
    invoiceStatus: row.invoice_status,
  };
}

/** Takes the task for one attempt; false when another runner has it or it is done. */
export async function claimTask(client: pg.ClientBase, taskId: string): Promise<boolean> {
  const claimed = await client.query(
    `UPDATE tasks SET status = 'in_progress', attempts = attempts + 1, started_at = COALESCE(started_at, now())
      WHERE id = $1 AND status = 'pending'`,
    [taskId],
  );
  return claimed.rowCount === 1;
}

/** An attempt that reached nobody: recorded, and the task waits for its next try (or fails). */
export async function recordUnreached(
  client: pg.ClientBase,
  task: CampaignTask,
  attempt: {
    organizationId: string;
    status: 'busy' | 'no_answer' | 'failed' | 'blocked';
    conversationId?: string;
    reason: string;
  },
  retry: boolean,
): Promise<void> {
  await client.query(
    `INSERT INTO contact_attempts (organization_id, task_id, customer_id, campaign_id, conversation_id, channel, status, response)
     VALUES ($1, $2, $3, $4, $5, 'phone', $6, $7)`,
    [
      attempt.organizationId,
      task.id,
      task.customerId,
      task.campaignId,
      attempt.conversationId ?? null,
      attempt.status,
      attempt.reason,
    ],
  );
  // A dial compliance stopped reached nobody and used none of the task's attempts.
  await client.query(
    `UPDATE tasks SET status = $2::text, completed_at = CASE WHEN $2::text = 'failed' THEN now() ELSE NULL END,
       attempts = attempts - CASE WHEN $4::boolean THEN 1 ELSE 0 END,
       context = context || jsonb_build_object('last_reason', $3::text)
     WHERE id = $1`,
    [task.id, retry ? 'pending' : 'failed', attempt.reason, attempt.status === 'blocked'],
  );
}
