import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { beforeAll, describe, expect, it } from 'vitest';
import { flowMigrationSets, flowPackages } from '../../../agents/index.js';
import { maintenanceQueueName } from '../../../src/events/batch.js';
import { makeEvent } from '../../../src/events/index.js';
import { Persister } from '../../../src/persistence/persister.js';
import { retentionPolicy, runRetention } from '../../../src/persistence/retention.js';
import {
  appointmentEventOf,
  countRows,
  obliterateQueues,
  persisterBase,
  persisterSuite,
  REDIS_URL,
  randomName,
  sampleCall,
  type TestDatabase,
} from './helpers.js';

const DAY = 86_400_000;
// The deployment defaults, every registered flow's archived tables and rules included.
const policy = retentionPolicy(
  {
    RETENTION_DAYS: 90,
    METRICS_RETENTION_DAYS: 30,
    ARCHIVE_RETENTION_DAYS: 365,
    TELEPHONY_LOG_RETENTION_DAYS: 30,
  },
  flowPackages,
);

/** A provider operation `daysAgo` days ago, as the worker records it. */
function telephonyEvent(callId: string, daysAgo: number) {
  return makeEvent(
    'telephony',
    callId,
    {
      log_id: randomUUID(),
      provider: 'livekit-sip',
      operation: 'hangup',
      request: { method: 'DeleteRoom', room_name: 'call-x' },
      status_code: 200,
      latency_ms: 12,
      success: true,
    },
    { occurredAt: new Date(Date.now() - daysAgo * DAY) },
  );
}

describe('retention', () => {
  const suite = persisterSuite('test-retention', {}, { flows: flowMigrationSets() });
  let db: TestDatabase;
  let persister: Persister;
  beforeAll(() => ({ db, persister } = suite));

  it('archives old conversations with their children and keeps recent ones', async () => {
    const oldCall = randomUUID();
    const newCall = randomUUID();
    const oldEvents = sampleCall(oldCall, Date.now() - 100 * DAY);
    await persister.processBatch({ events: [...oldEvents, ...sampleCall(newCall)] });
    const appointmentId = appointmentEventOf(oldEvents).payload.record_id;

    const report = await runRetention(db.pool, policy);
    expect(report.archived).toBe(1);

    const live = await countRows(db.pool, [oldCall]);
    expect(live).toMatchObject({ conversations: 0, conversation_turns: 0, call_events: 0, user_feedback: 0 });
    expect((await countRows(db.pool, [newCall])).conversations).toBe(1);

    const archived = (await db.pool.query('SELECT * FROM conversations_archive WHERE id = $1', [oldCall]))
      .rows[0];
    expect(archived.session_id).toBe(`sess-${oldCall}`);
    expect(archived.caller_number_encrypted).toBeNull(); // PII not carried into the archive
    expect(archived.caller_number_hash).not.toBeNull(); // but still findable by number
    expect(archived.details.turns).toHaveLength(1);
    expect(archived.details.transitions).toHaveLength(1);
    expect(archived.details.slots).toHaveLength(1);
    expect(archived.details.call_events).toHaveLength(1);
    expect(archived.details.feedback).toHaveLength(1);

    // The booking outlives the call record; the old error log is purged.
    const appt = (
      await db.pool.query('SELECT conversation_id FROM appointments WHERE id = $1', [appointmentId])
    ).rows;
    expect(appt).toEqual([{ conversation_id: null }]);
    expect(report.errorLogsPurged).toBe(1);

    // Metrics older than 30 days are gone, recent ones stay.
    const m = await db.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM system_metrics WHERE conversation_id = ANY($1::uuid[])',
      [[oldCall, newCall]],
    );
    expect(Number(m.rows[0]?.n)).toBe(1);

    // Idempotent: nothing more to do.
    expect((await runRetention(db.pool, policy)).archived).toBe(0);
  });

  it('purges telephony provider logs after 30 days (seed 003) and keeps newer ones', async () => {
    const callId = randomUUID();
    const [old, recent] = [telephonyEvent(callId, 31), telephonyEvent(callId, 29)];
    await persister.processBatch({ events: [...sampleCall(callId), old, recent] });
    const report = await runRetention(db.pool, policy);
    expect(report.telephonyLogsPurged).toBe(1);
    const left = await db.pool.query('SELECT id FROM telephony_provider_logs WHERE conversation_id = $1', [
      callId,
    ]);
    expect(left.rows).toEqual([{ id: recent.payload.log_id }]);
  });

  it("runs the survey's rules: failed calls deleted after 7 days, recordings after 30, old calls anonymized", async () => {
    const shop = (
      await db.pool.query("INSERT INTO organizations (name) VALUES ('Retention Shop') RETURNING id")
    ).rows[0].id;
    const surveyCall = async (daysAgo: number, recording: string | null) =>
      (
        await db.pool.query(
          `INSERT INTO survey_calls (organization_id, verification_id, customer_phone, customer_phone_hash,
             customer_count, created_at, recording_url, transcript)
           VALUES ($1, $2, 'sealed-number', '\\x0102', 1, now() - make_interval(days => $3), $4, 'hej') RETURNING id`,
          [shop, randomUUID(), daysAgo, recording],
        )
      ).rows[0].id as string;
    const failedOld = await surveyCall(8, null);
    const failedNew = await surveyCall(6, null);
    await db.pool.query(`UPDATE survey_calls SET status = 'failed' WHERE id = ANY($1::uuid[])`, [
      [failedOld, failedNew],
    ]);
    const recorded = await surveyCall(31, 'file:///recordings/a.wav');
    const ancient = await surveyCall(91, null);
    const report = await runRetention(db.pool, policy);
    expect(report.flowRules).toMatchObject({
      'failed survey calls deleted after 7 days': 1,
      'survey recordings dropped after 30 days': 1,
      'survey calls anonymized after 90 days': 1,
    });
    const rows = await db.pool.query(
      `SELECT id, recording_url, customer_phone, transcript, length(customer_phone_hash) AS hash_bytes
         FROM survey_calls WHERE organization_id = $1 ORDER BY created_at`,
      [shop],
    );
    expect(rows.rows.map((row) => row.id)).toEqual([ancient, recorded, failedNew]);
    expect(rows.rows[0]).toMatchObject({ customer_phone: '', transcript: null, hash_bytes: 0 });
    expect(rows.rows[1]).toMatchObject({ recording_url: null, customer_phone: 'sealed-number' });
    expect((await runRetention(db.pool, policy)).flowRules['survey calls anonymized after 90 days']).toBe(0);
  });

  it('purges archived conversations past the archive period', async () => {
    const ancient = randomUUID();
    await persister.processBatch({ events: sampleCall(ancient, Date.now() - 400 * DAY) });
    const report = await runRetention(db.pool, policy);
    expect(report.archived).toBe(1);
    expect(report.archivePurged).toBe(1);
    const left = await db.pool.query('SELECT 1 FROM conversations_archive WHERE id = $1', [ancient]);
    expect(left.rowCount).toBe(0);
  });

  it('keeps metrics outside every partition and moves them when their month is created', async () => {
    const callId = randomUUID();
    const far = new Date(Date.now() + 700 * DAY).toISOString();
    await persister.processBatch({
      events: [makeEvent('metric', callId, { name: 'skewed', value: 1, time: far })],
    });
    const where = await db.pool.query<{ part: string }>(
      "SELECT tableoid::regclass::text AS part FROM system_metrics WHERE metric_name = 'skewed'",
    );
    expect(where.rows[0]?.part).toBe('system_metrics_default');
    const created = await db.pool.query<{ n: number }>('SELECT ensure_metric_partitions(30) AS n');
    expect(created.rows[0]?.n).toBeGreaterThan(20);
    const moved = await db.pool.query<{ part: string }>(
      "SELECT tableoid::regclass::text AS part FROM system_metrics WHERE metric_name = 'skewed'",
    );
    const month = far.slice(0, 7).replace('-', 'm');
    expect(moved.rows).toEqual([{ part: `system_metrics_y${month}` }]);
    // Calling it again creates nothing.
    expect((await db.pool.query('SELECT ensure_metric_partitions(30) AS n')).rows[0].n).toBe(0);
  });

  it('runs as a daily job scheduled by the persister', async () => {
    const name = randomName('test-maint');
    const scheduled = new Persister({
      ...persisterBase(db.url, name),
      retention: policy,
    });
    try {
      await scheduled.start();
      const queue = new Queue(maintenanceQueueName(name), { connection: { url: REDIS_URL } });
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.map((s) => [s.key, s.pattern])).toEqual([['retention-daily', '17 3 * * *']]);
      // Run one now, as the scheduler would at 03:17 UTC.
      const old = randomUUID();
      await scheduled.processBatch({ events: sampleCall(old, Date.now() - 200 * DAY) });
      const events = new QueueEvents(maintenanceQueueName(name), { connection: { url: REDIS_URL } });
      await events.waitUntilReady();
      const job = await queue.add('retention', {});
      const report = await job.waitUntilFinished(events, 30_000);
      expect(report.archived).toBeGreaterThanOrEqual(1);
      await events.close();
      await queue.close();
    } finally {
      await scheduled.close();
      await obliterateQueues(name);
    }
  });
});
