import { requireUuid, UsageError, withAdminPool } from '../../../src/cli/control-common.js';
import { placeCall, waitForOutcome } from '../../../src/cli/dial.js';
import { serveQueueWorker } from '../../../src/cli/queue-worker.js';
import { loadConfig } from '../../../src/config/config.js';
import { serviceDatabaseUrl } from '../../../src/config/service-database.js';
import { createPool } from '../../../src/persistence/db.js';
import { PiiKeyRing } from '../../../src/persistence/pii.js';
import { withOrganization } from '../../../src/persistence/tenant-scope.js';
import { CAMPAIGN_QUEUE, campaignQueue, scheduleTasks, startCampaignWorker, taskJobId } from './queue.js';
import { activateCampaign, createCampaign, setCampaignStatus } from './store.js';

const OUTCOME_TIMEOUT_MS = (30 + 300 + 90) * 1000;

function json(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${what} must be JSON`);
  }
}

export async function createAction(options: {
  org: string;
  customer: string;
  invoice: string;
  steps: string;
  name?: string;
  start?: string;
}): Promise<void> {
  const organizationId = requireUuid(options.org, '--org');
  const start = options.start ? new Date(options.start) : new Date();
  if (Number.isNaN(start.getTime())) throw new UsageError('--start must be an ISO instant');
  const id = await withAdminPool((pool) =>
    withOrganization(pool, organizationId, async (client) => {
      const invoice = await client.query(
        'SELECT invoice_number FROM payment_records WHERE id = $1 AND customer_id = $2',
        [requireUuid(options.invoice, '--invoice'), requireUuid(options.customer, '--customer')],
      );
      if (!invoice.rows[0]) throw new UsageError('no such invoice for that customer in the organization');
      try {
        return await createCampaign(client, {
          organizationId,
          name: options.name ?? `Invoice ${invoice.rows[0].invoice_number}`,
          customerId: options.customer,
          paymentRecordId: options.invoice,
          steps: json(options.steps, '--steps'),
          startDate: start,
        });
      } catch (err) {
        if ((err as { name?: string }).name === 'ZodError')
          throw new UsageError(`--steps: ${(err as Error).message}`);
        throw err;
      }
    }),
  );
  console.log(
    `campaign ${id} created (draft); start it with: voice-agent campaign start ${id} --org ${organizationId}`,
  );
}

export async function lifecycleAction(
  action: 'start' | 'pause' | 'resume' | 'cancel',
  id: string,
  options: { org: string; until?: string },
): Promise<void> {
  const organizationId = requireUuid(options.org, '--org');
  const campaignId = requireUuid(id, 'campaign id');
  const cfg = loadConfig();
  const queue = campaignQueue({ url: cfg.REDIS_URL });
  try {
    await withAdminPool((pool) =>
      withOrganization(pool, organizationId, async (client) => {
        if (action === 'start' || action === 'resume') {
          const tasks = await activateCampaign(client, campaignId);
          const queued = await scheduleTasks(queue, organizationId, tasks);
          console.log(
            `campaign ${campaignId} active: ${tasks.length} pending task(s), ${queued} newly queued`,
          );
        } else if (action === 'pause') {
          await setCampaignStatus(client, campaignId, 'paused');
          if (options.until)
            await client.query('UPDATE campaigns SET paused_until = $2 WHERE id = $1', [
              campaignId,
              new Date(options.until),
            ]);
          console.log(`campaign ${campaignId} paused`);
        } else {
          const pending = await client.query<{ id: string }>(
            "SELECT id FROM tasks WHERE campaign_id = $1 AND status = 'pending'",
            [campaignId],
          );
          await setCampaignStatus(client, campaignId, 'cancelled');
          for (const task of pending.rows)
            await (await queue.getJob(taskJobId(task.id)))?.remove().catch(() => undefined);
          console.log(`campaign ${campaignId} cancelled: ${pending.rowCount} pending task(s) dropped`);
        }
      }),
    );
  } finally {
    await queue.close();
  }
}

export async function statusAction(id: string, options: { org: string; json?: boolean }): Promise<void> {
  const organizationId = requireUuid(options.org, '--org');
  const report = await withAdminPool((pool) =>
    withOrganization(pool, organizationId, async (client) => {
      const campaign = (
        await client.query(
          'SELECT id, name, status, results, start_date, paused_until FROM campaigns WHERE id = $1',
          [requireUuid(id, 'campaign id')],
        )
      ).rows[0];
      if (!campaign) throw new UsageError(`no campaign ${id} in this organization`);
      const tasks = (
        await client.query(
          `SELECT step_index, status, attempts, max_attempts, due_at, context->>'outcome' AS outcome FROM tasks
            WHERE campaign_id = $1 ORDER BY step_index`,
          [campaign.id],
        )
      ).rows;
      return { ...campaign, tasks };
    }),
  );
  if (options.json) {
    console.log(JSON.stringify(report));
    return;
  }
  console.log(`${report.name}: ${report.status}  results ${JSON.stringify(report.results)}`);
  for (const task of report.tasks)
    console.log(
      `  step ${task.step_index}: ${task.status} (${task.attempts}/${task.max_attempts} attempts) due ${task.due_at.toISOString()}${task.outcome ? ` → ${task.outcome}` : ''}`,
    );
}

export async function workerAction(options: { concurrency: string; perMinute: string }): Promise<void> {
  const cfg = loadConfig();
  const pool = createPool(serviceDatabaseUrl(cfg, 'worker'), { max: 4 });
  const ring = PiiKeyRing.fromConfig(cfg);
  const worker = startCampaignWorker({
    connection: { url: cfg.REDIS_URL, maxRetriesPerRequest: null },
    concurrency: Number(options.concurrency),
    perMinute: Number(options.perMinute),
    deps: {
      pool,
      decrypt: (sealed) => ring.decrypt(sealed),
      dialler: {
        // The worker checks compliance right before it dials (the customer is named).
        place: (call) =>
          placeCall(cfg, {
            number: call.number,
            flow: 'payment-reminder',
            settings: call.settings,
            organizationId: call.organizationId,
            customerId: call.customerId,
          }),
        outcome: (room) => waitForOutcome(cfg, room, OUTCOME_TIMEOUT_MS),
      },
    },
  });
  await serveQueueWorker(`campaign task (${CAMPAIGN_QUEUE})`, worker, () => pool.end());
}
