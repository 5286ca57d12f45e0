import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowMigrationSets } from '../../../agents/index.js';
import { reminderRecords } from '../../../agents/payment-reminder/records.js';
import { PgReminderStore } from '../../../agents/payment-reminder/store/pg-store.js';
import { withDatabaseRole } from '../../../src/config/service-database.js';
import { withOrganization } from '../../../src/persistence/tenant-scope.js';
import { createTestDatabase, pii, type TestDatabase } from './helpers.js';

/**
 * The payment reminder's data on the real Postgres: the store reads the customer, invoice and
 * phone script as the worker's role (RLS), the persister's writers turn a call's outcome into
 * its contact attempt, the task's completion and one count in the campaign's results, and an
 * opt-out into the customer's opt-out for good.
 */
describe('payment reminder store and records', () => {
  let db: TestDatabase;
  let worker: pg.Pool;
  let org: string;
  let customer: string;
  let invoice: string;
  let campaign: string;
  let task: string;
  let conversation: string;

  beforeAll(async () => {
    db = await createTestDatabase({ flows: flowMigrationSets() });
    worker = new pg.Pool({ connectionString: withDatabaseRole(db.url, 'voice_worker'), max: 2 });
    org = (
      await db.pool.query<{ id: string }>(
        "INSERT INTO organizations (name) VALUES ('Northwind') RETURNING id",
      )
    ).rows[0]!.id;
    customer = (
      await db.pool.query<{ id: string }>(
        `INSERT INTO customers (organization_id, first_name, last_name, address, date_of_birth_sealed)
         VALUES ($1, 'Dana', 'Reyes', '{"zipCode":"21 045"}', $2) RETURNING id`,
        [org, pii.sealText('1984-05-02')],
      )
    ).rows[0]!.id;
    invoice = (
      await db.pool.query<{ id: string }>(
        `INSERT INTO payment_records (organization_id, customer_id, amount, due_date, status, invoice_number)
         VALUES ($1, $2, 245.50, '2026-11-20', 'overdue', 'INV1042') RETURNING id`,
        [org, customer],
      )
    ).rows[0]!.id;
    await db.pool.query(
      `INSERT INTO templates (organization_id, name, type, channel, content, version) VALUES
         ($1, 'reminder', 'phone_script', 'phone', 'Old text {amount}.', 1),
         ($1, 'reminder', 'phone_script', 'phone', 'Invoice {invoice_number}: {amount}.', 2)`,
      [org],
    );
    campaign = (
      await db.pool.query<{ id: string }>(
        `INSERT INTO campaigns (organization_id, name, customer_id, payment_record_id, status, escalation_steps, start_date)
         VALUES ($1, 'INV1042 reminders', $2, $3, 'active', '[{"day":0,"template":"reminder"}]', now()) RETURNING id`,
        [org, customer, invoice],
      )
    ).rows[0]!.id;
    task = (
      await db.pool.query<{ id: string }>(
        `INSERT INTO tasks (organization_id, type, customer_id, campaign_id, payment_record_id, status, step_index)
         VALUES ($1, 'make_call', $2, $3, $4, 'in_progress', 0) RETURNING id`,
        [org, customer, campaign, invoice],
      )
    ).rows[0]!.id;
    conversation = randomUUID();
    await db.pool.query(
      `INSERT INTO conversations (id, organization_id, session_id, room_name, direction, flow)
       VALUES ($1, $2, $3, 'call-out-x', 'outbound', 'payment-reminder')`,
      [conversation, org, `session-${conversation}`],
    );
  });

  afterAll(async () => {
    await worker.end();
    await db.drop();
  });

  it('loads the customer, the invoice and the newest version of the phone script, in its organization only', async () => {
    const store = new PgReminderStore(worker, pii);
    const account = await store.loadAccount({
      organizationId: org,
      customerId: customer,
      paymentRecordId: invoice,
      templateName: 'reminder',
    });
    expect(account).toMatchObject({
      fullName: 'Dana Reyes',
      postcode: '21045',
      dateOfBirth: '1984-05-02',
      amount: 245.5,
      currency: 'USD',
      dueDate: '2026-11-20',
      invoiceNumber: 'INV1042',
      script: { name: 'reminder', version: 2, content: 'Invoice {invoice_number}: {amount}.' },
    });
    const other = (
      await db.pool.query<{ id: string }>("INSERT INTO organizations (name) VALUES ('Other') RETURNING id")
    ).rows[0]!.id;
    expect(
      await store.loadAccount({ organizationId: other, customerId: customer, paymentRecordId: invoice }),
    ).toBeNull();
  });

  const write = (type: 'reminder_outcome' | 'opt_out', row: Record<string, unknown>) =>
    withOrganization(db.pool, org, async (client) => {
      await client.query('SET LOCAL ROLE voice_persister');
      const record = reminderRecords[type];
      await record.write(client, [{ ...row, data: record.schema.parse(row.data) } as never]);
    });

  it("turns the outcome into the call's contact attempt, completes the task and counts once in the campaign", async () => {
    const row = {
      id: randomUUID(),
      call_id: conversation,
      occurred_at: '2026-12-07T15:04:00Z',
      data: {
        customer_id: customer,
        payment_record_id: invoice,
        task_id: task,
        campaign_id: campaign,
        outcome: 'promised',
        verified: true,
        promise_date: '2026-12-18',
      },
    };
    await write('reminder_outcome', row);
    await write('reminder_outcome', row); // a replay changes nothing
    const attempts = await db.pool.query(
      'SELECT task_id, campaign_id, conversation_id, channel, status, response, metadata FROM contact_attempts WHERE customer_id = $1',
      [customer],
    );
    expect(attempts.rows).toEqual([
      {
        task_id: task,
        campaign_id: campaign,
        conversation_id: conversation,
        channel: 'phone',
        status: 'answered',
        response: 'promised',
        metadata: { promise_date: '2026-12-18', verified: true },
      },
    ]);
    const taskRow = (await db.pool.query('SELECT status, context FROM tasks WHERE id = $1', [task])).rows[0];
    expect(taskRow).toMatchObject({
      status: 'completed',
      context: { outcome: 'promised', promise_date: '2026-12-18' },
    });
    const results = (await db.pool.query('SELECT results FROM campaigns WHERE id = $1', [campaign])).rows[0]
      .results;
    expect(results).toEqual({ promised: 1 });
  });

  it('records "stop calling me" as an opt-out for good, replacing a temporary one', async () => {
    await db.pool.query(
      `INSERT INTO opt_outs (organization_id, customer_id, channel, opted_out_at, expires_at)
       VALUES ($1, $2, 'phone', '2026-11-01T00:00:00Z', '2026-11-15T00:00:00Z')`,
      [org, customer],
    );
    await write('opt_out', {
      id: randomUUID(),
      call_id: conversation,
      occurred_at: '2026-12-07T15:05:00Z',
      data: { customer_id: customer, channel: 'phone', reason: 'asked on a call' },
    });
    const optOut = (
      await db.pool.query('SELECT channel, expires_at, reason FROM opt_outs WHERE customer_id = $1', [
        customer,
      ])
    ).rows;
    expect(optOut).toEqual([{ channel: 'phone', expires_at: null, reason: 'asked on a call' }]);
    await expect(
      write('opt_out', {
        id: randomUUID(),
        call_id: conversation,
        occurred_at: '2026-12-07T15:05:00Z',
        data: { customer_id: randomUUID(), channel: 'phone', reason: 'x' },
      }),
    ).rejects.toThrow(/no customer/);
  });
});
