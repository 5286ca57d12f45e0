import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowMigrationSets } from '../../../agents/index.js';
import {
  campaignQueue,
  scheduleTasks,
  startCampaignWorker,
  taskJobId,
} from '../../../agents/payment-reminder/campaigns/queue.js';
import { type CampaignDialler, runCampaignTask } from '../../../agents/payment-reminder/campaigns/runner.js';
import {
  activateCampaign,
  createCampaign,
  setCampaignStatus,
} from '../../../agents/payment-reminder/campaigns/store.js';
import type { ReminderSettings } from '../../../agents/payment-reminder/settings.js';
import { withDatabaseRole } from '../../../src/config/service-database.js';
import { withOrganization } from '../../../src/persistence/tenant-scope.js';
import { CliProcess } from '../../helpers/cli-process.js';
import {
  createTestDatabase,
  obliterateQueues,
  pii,
  REDIS_URL,
  type TestDatabase,
} from '../persistence/helpers.js';

/**
 * The campaign runner on the real Postgres (as the worker's role) and Redis. The dialler is a
 * fake (FakeDialler) standing in for the outbound path (dispatch, compliance gate, livekit-sip,
 * the flow's records): it answers each call with the outcome the test queues.
 */

type Outcome = { status: string; reason: string | null };

class FakeDialler implements CampaignDialler {
  readonly placed: { number: string; customerId: string; settings: ReminderSettings }[] = [];
  readonly outcomes: Outcome[] = [];
  constructor(private readonly db: TestDatabase) {}

  async place(call: {
    number: string;
    customerId: string;
    organizationId: string;
    settings: ReminderSettings;
  }) {
    this.placed.push(call);
    const room = `call-out-${randomUUID().slice(0, 8)}`;
    await this.db.pool.query(
      `INSERT INTO conversations (id, organization_id, session_id, room_name, direction, flow)
       VALUES ($1, $2, $3, $4, 'outbound', 'payment-reminder')`,
      [randomUUID(), call.organizationId, `s-${room}`, room],
    );
    return { room };
  }

  async outcome(room: string) {
    const id = (await this.db.pool.query('SELECT id FROM conversations WHERE room_name = $1', [room])).rows[0]
      .id;
    return { call_id: id, ...(this.outcomes.shift() ?? { status: 'COMPLETED', reason: 'promised' }) };
  }
}

describe('payment campaign runner (Postgres as voice_worker, Redis)', () => {
  let db: TestDatabase;
  let worker: pg.Pool;
  let org: string;
  let customer: string;
  let invoice: string;
  const start = new Date('2026-12-07T15:00:00Z');
  const steps = [
    { day: 0, template: 'reminder' },
    { day: 7 },
    { day: 14, template: 'final', max_attempts: 2 },
  ];

  beforeAll(async () => {
    db = await createTestDatabase({ flows: flowMigrationSets() });
    worker = new pg.Pool({ connectionString: withDatabaseRole(db.url, 'voice_worker'), max: 2 });
    org = (
      await db.pool.query<{ id: string }>("INSERT INTO organizations (name) VALUES ('Acme') RETURNING id")
    ).rows[0]!.id;
    customer = (
      await db.pool.query<{ id: string }>(
        "INSERT INTO customers (organization_id, first_name, phone_encrypted) VALUES ($1, 'Dana', $2) RETURNING id",
        [org, pii.encrypt('+15550142001')],
      )
    ).rows[0]!.id;
    invoice = (
      await db.pool.query<{ id: string }>(
        `INSERT INTO payment_records (organization_id, customer_id, amount, due_date, status, invoice_number)
         VALUES ($1, $2, 90, '2026-11-30', 'overdue', 'INV-7') RETURNING id`,
        [org, customer],
      )
    ).rows[0]!.id;
    await obliterateQueues('payment-campaign-tasks');
  });

  afterAll(async () => {
    await worker.end();
    await db.drop();
  });

  const scoped = <T>(fn: (client: pg.PoolClient) => Promise<T>) => withOrganization(worker, org, fn);
  const newCampaign = () =>
    scoped((client) =>
      createCampaign(client, {
        organizationId: org,
        name: 'INV-7',
        customerId: customer,
        paymentRecordId: invoice,
        steps,
        startDate: start,
      }),
    );
  // No flow runs behind the fake: its outcome record never comes, so the runner need not wait.
  const deps = (dialler: FakeDialler) => ({
    pool: worker,
    dialler,
    decrypt: (sealed: Buffer) => pii.decrypt(sealed),
    settleMs: 0,
  });
  const taskRows = (campaign: string) =>
    db.pool.query(
      'SELECT id, step_index, status, attempts, due_at FROM tasks WHERE campaign_id = $1 ORDER BY step_index',
      [campaign],
    );

  it('turns each escalation step into one task due on its day, however often it is started', async () => {
    const campaign = await newCampaign();
    const first = await scoped((client) => activateCampaign(client, campaign));
    const again = await scoped((client) => activateCampaign(client, campaign));
    expect(again.map((t) => t.id)).toEqual(first.map((t) => t.id));
    const rows = (await taskRows(campaign)).rows;
    expect(rows.map((row) => [row.step_index, row.due_at.toISOString()])).toEqual([
      [0, '2026-12-07T15:00:00.000Z'],
      [1, '2026-12-14T15:00:00.000Z'],
      [2, '2026-12-21T15:00:00.000Z'],
    ]);
    await expect(
      scoped((client) =>
        createCampaign(client, {
          organizationId: org,
          name: 'x',
          customerId: customer,
          paymentRecordId: invoice,
          steps: [{ day: 7 }, { day: 3 }],
          startDate: start,
        }),
      ),
    ).rejects.toThrow(/increasing day order/);
  });

  it('calls a due task once with its script, retries busy, and never dials a task twice', async () => {
    const campaign = await newCampaign();
    const [task] = await scoped((client) => activateCampaign(client, campaign));
    const dialler = new FakeDialler(db);
    dialler.outcomes.push({ status: 'FAILED', reason: 'busy: SIP 486 Busy Here' });
    const job = { organizationId: org, taskId: task!.id };
    expect(await runCampaignTask(deps(dialler), job, start)).toEqual({
      kind: 'retry',
      reason: 'busy: SIP 486 Busy Here',
    });
    expect(dialler.placed[0]).toMatchObject({
      number: '+15550142001',
      settings: {
        customerId: customer,
        paymentRecordId: invoice,
        taskId: task!.id,
        campaignId: campaign,
        templateName: 'reminder',
      },
    });
    const second = await runCampaignTask(deps(dialler), job, start);
    expect(second).toMatchObject({ kind: 'called', status: 'COMPLETED' });
    // Redelivered after it finished: nothing is dialled.
    expect(await runCampaignTask(deps(dialler), job, start)).toEqual({
      kind: 'skipped',
      reason: 'task completed',
    });
    expect(dialler.placed).toHaveLength(2);
    const attempts = await db.pool.query('SELECT status FROM contact_attempts WHERE task_id = $1', [
      task!.id,
    ]);
    expect(attempts.rows.map((row) => row.status)).toEqual(['busy']);
    expect((await taskRows(campaign)).rows[0]).toMatchObject({ status: 'completed', attempts: 2 });
  });

  it('fails a step after its last attempt, waits while paused or not due, and stops when the invoice is paid', async () => {
    const campaign = await newCampaign();
    const tasks = await scoped((client) => activateCampaign(client, campaign));
    const dialler = new FakeDialler(db);
    const last = tasks[2]!;
    const atDay14 = new Date('2026-12-21T15:00:00Z');
    expect(
      await runCampaignTask(deps(dialler), { organizationId: org, taskId: tasks[1]!.id }, start),
    ).toMatchObject({
      kind: 'later',
      reason: 'not due yet',
    });
    dialler.outcomes.push(
      { status: 'FAILED', reason: 'no_answer: not answered within 30 s' },
      { status: 'FAILED', reason: 'no_answer: not answered within 30 s' },
    );
    expect(
      (await runCampaignTask(deps(dialler), { organizationId: org, taskId: last.id }, atDay14)).kind,
    ).toBe('retry');
    expect(
      (await runCampaignTask(deps(dialler), { organizationId: org, taskId: last.id }, atDay14)).kind,
    ).toBe('called');
    expect((await taskRows(campaign)).rows[2]).toMatchObject({ status: 'failed', attempts: 2 });

    await scoped((client) => setCampaignStatus(client, campaign, 'paused'));
    expect(
      (await runCampaignTask(deps(dialler), { organizationId: org, taskId: tasks[0]!.id }, start)).kind,
    ).toBe('later');
    await scoped((client) => activateCampaign(client, campaign));
    await db.pool.query(
      "UPDATE payment_records SET status = 'paid', paid_date = '2026-12-08' WHERE id = $1",
      [invoice],
    );
    expect(
      await runCampaignTask(deps(dialler), { organizationId: org, taskId: tasks[0]!.id }, start),
    ).toEqual({ kind: 'stopped', reason: 'paid' });
    const status = (await db.pool.query('SELECT status FROM campaigns WHERE id = $1', [campaign])).rows[0]
      .status;
    expect(status).toBe('completed');
    expect((await taskRows(campaign)).rows.map((row) => row.status)).toEqual([
      'cancelled',
      'cancelled',
      'failed',
    ]);
    expect(dialler.placed).toHaveLength(2);
    await db.pool.query("UPDATE payment_records SET status = 'overdue', paid_date = NULL WHERE id = $1", [
      invoice,
    ]);
  });

  it('waits for the compliance window without using an attempt', async () => {
    const campaign = await newCampaign();
    const [task] = await scoped((client) => activateCampaign(client, campaign));
    const dialler = new FakeDialler(db);
    dialler.outcomes.push({
      status: 'FAILED',
      reason: 'compliance_blocked: default_calling_hours (next allowed 2026-12-08T13:00:00.000Z)',
    });
    const result = await runCampaignTask(deps(dialler), { organizationId: org, taskId: task!.id }, start);
    expect(result).toMatchObject({ kind: 'later', notBefore: new Date('2026-12-08T13:00:00.000Z') });
    expect((await taskRows(campaign)).rows[0]).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('queues each task once, delayed until due, and the worker places the due one', async () => {
    const campaign = await newCampaign();
    const tasks = await scoped((client) => activateCampaign(client, campaign));
    const queue = campaignQueue({ url: REDIS_URL });
    const dialler = new FakeDialler(db);
    const now = Date.now();
    // The first step due now, the others days away.
    const due = tasks.map((task, i) => ({ ...task, dueAt: new Date(now + i * 86_400_000) }));
    await db.pool.query('UPDATE tasks SET due_at = now() WHERE id = $1', [tasks[0]!.id]);
    try {
      expect(await scheduleTasks(queue, org, due, { now })).toBe(3);
      expect(await scheduleTasks(queue, org, due, { now })).toBe(0);
      expect(await (await queue.getJob(taskJobId(tasks[1]!.id)))!.isDelayed()).toBe(true);
      const runner = startCampaignWorker({
        connection: { url: REDIS_URL, maxRetriesPerRequest: null },
        deps: deps(dialler),
        concurrency: 1,
      });
      try {
        const result = await new Promise((resolve, reject) => {
          runner.on('completed', (job, value) => job.id === taskJobId(tasks[0]!.id) && resolve(value));
          runner.on('failed', (_job, err) => reject(err));
        });
        expect(result).toMatchObject({ kind: 'called', status: 'COMPLETED' });
      } finally {
        await runner.close();
      }
      expect(dialler.placed).toHaveLength(1);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('voice-agent campaign create, start, pause, status and cancel', async () => {
    const env = { DATABASE_URL: db.url, REDIS_URL };
    const run = async (...args: string[]) => {
      const cli = new CliProcess(['campaign', ...args], env);
      const code = await cli.exited;
      return { code, output: cli.output };
    };
    const created = await run(
      'create',
      '--org',
      org,
      '--customer',
      customer,
      '--invoice',
      invoice,
      '--steps',
      '[{"day":0},{"day":7}]',
    );
    expect(created.code, created.output).toBe(0);
    const id = created.output.match(/campaign ([0-9a-f-]{36}) created/)![1]!;
    expect((await run('start', id, '--org', org)).output).toMatch(
      /active: 2 pending task\(s\), 2 newly queued/,
    );
    expect((await run('pause', id, '--org', org)).output).toMatch(/paused/);
    const status = await run('status', id, '--org', org, '--json');
    expect(JSON.parse(status.output.trim().split('\n').at(-1)!)).toMatchObject({
      status: 'paused',
      tasks: [{ step_index: 0, status: 'pending' }, { step_index: 1 }],
    });
    expect((await run('cancel', id, '--org', org)).output).toMatch(/cancelled: 2 pending task\(s\) dropped/);
    const bad = await run(
      'create',
      '--org',
      org,
      '--customer',
      customer,
      '--invoice',
      invoice,
      '--steps',
      'not json',
    );
    expect(bad.code).toBe(1);
    expect(bad.output).toMatch(/--steps must be JSON/);
    await obliterateQueues('payment-campaign-tasks');
    // The worker process starts, waits for due tasks, and stops cleanly on SIGTERM.
    const worker = new CliProcess(['campaign', 'worker', '--concurrency', '1'], env);
    await worker.waitFor(/campaign task \(payment-campaign-tasks\) worker ready/, 30_000);
    expect(await worker.stop()).toBe(0);
  }, 60_000);
});
