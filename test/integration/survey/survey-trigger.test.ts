import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueSurveyCall, startSurveyWorker, surveyQueue } from '../../../agents/feedback-survey/queue.js';
import { surveyRecords } from '../../../agents/feedback-survey/records.js';
import type { SurveySettings } from '../../../agents/feedback-survey/settings.js';
import { type SurveyDialler, triggerSurveyCall } from '../../../agents/feedback-survey/trigger.js';
import { flowMigrationSets } from '../../../agents/index.js';
import { withDatabaseRole } from '../../../src/config/service-database.js';
import { withOrganization } from '../../../src/persistence/tenant-scope.js';
import {
  createTestDatabase,
  obliterateQueues,
  pii,
  REDIS_URL,
  type TestDatabase,
} from '../persistence/helpers.js';

/**
 * The survey trigger on the real Postgres (as the worker's role, RLS on) and the survey queue
 * on the real Redis. The dialler is a fake (FakeDialler): it stands in for the outbound path
 * (a LiveKit dispatch, livekit-sip, the persister), creating the call's conversation and
 * writing what a call would record through the package's own record writers; the SIP
 * end-to-end test covers the real path.
 */

type Outcome = {
  status: string;
  reason: string | null;
  statuses?: ('in_progress' | 'completed' | 'timeout')[];
};

class FakeDialler implements SurveyDialler {
  readonly placed: { number: string; settings: SurveySettings; organizationId: string }[] = [];
  readonly rooms = new Map<string, string>();
  next: Outcome = { status: 'COMPLETED', reason: 'completed', statuses: ['in_progress', 'completed'] };
  refuse?: Error;

  constructor(private readonly db: TestDatabase) {}

  async place(call: { number: string; settings: SurveySettings; organizationId: string }) {
    if (this.refuse) throw this.refuse;
    this.placed.push(call);
    const room = `call-out-${randomUUID().slice(0, 12)}`;
    const conversation = randomUUID();
    await this.db.pool.query(
      `INSERT INTO conversations (id, organization_id, session_id, room_name, direction, flow)
       VALUES ($1, $2, $3, $4, 'outbound', 'feedback-survey')`,
      [conversation, call.organizationId, `session-${conversation}`, room],
    );
    this.rooms.set(room, conversation);
    const at = Date.parse('2026-12-07T10:00:00Z');
    for (const [index, status] of (this.next.statuses ?? []).entries()) {
      await persist(this.db, call.organizationId, 'survey_status', {
        id: randomUUID(),
        call_id: conversation,
        occurred_at: new Date(at + index * 40_000).toISOString(),
        data: {
          survey_call_id: call.settings.surveyCallId,
          event: status === 'in_progress' ? 'ai_connected' : status,
          status,
        },
      });
    }
    return { room };
  }

  async outcome(room: string) {
    return { call_id: this.rooms.get(room)!, status: this.next.status, reason: this.next.reason };
  }
}

/** Writes one record as the persister would (its role, the organization's scope). */
function persist(
  db: TestDatabase,
  organizationId: string,
  type: 'survey_status',
  row: Record<string, unknown>,
) {
  return withOrganization(db.pool, organizationId, async (client) => {
    await client.query('SET LOCAL ROLE voice_persister');
    const record = surveyRecords[type];
    await record.write(client, [{ ...row, data: record.schema.parse(row.data) } as never]);
  });
}

describe('survey trigger and queue (Postgres as voice_worker, Redis)', () => {
  let db: TestDatabase;
  let workerPool: pg.Pool;
  let business: string;
  const monday = () => new Date('2026-12-07T10:00:00Z'); // 11:00 in Stockholm

  beforeAll(async () => {
    db = await createTestDatabase({ flows: flowMigrationSets() });
    workerPool = new pg.Pool({ connectionString: withDatabaseRole(db.url, 'voice_worker'), max: 2 });
    business = (
      await db.pool.query<{ id: string }>(
        "INSERT INTO organizations (name) VALUES ('Bageri Söder') RETURNING id",
      )
    ).rows[0]!.id;
    await db.pool.query(
      `INSERT INTO question_configurations (organization_id, question_text, language, frequency, priority, department_tags, follow_up_prompts)
       VALUES ($1, 'Hur var servicen i kassan idag?', 'sv-SE', 1, 'high', '["kassa"]', '["Var det bra eller dåligt?"]'),
              ($1, 'Hittade du det du letade efter?', 'sv-SE', 1, 'low', '["butik"]', NULL)`,
      [business],
    );
    await db.pool.query(
      `INSERT INTO survey_business_settings (organization_id, business_name, calling_days, calling_from, calling_until)
       VALUES ($1, 'Bageriet på Söder', '{1,2,3,4,5}', '09:00', '20:00')`,
      [business],
    );
    await obliterateQueues('feedback-survey-calls');
  });

  afterAll(async () => {
    await workerPool.end();
    await db.drop();
  });

  const deps = (dialler: FakeDialler, now = monday) => ({ pool: workerPool, sealer: pii, dialler, now });
  const visit = (phone = '+46701234567') => ({
    organizationId: business,
    verificationId: randomUUID(),
    customerPhone: phone,
  });
  const row = async (id: string) =>
    (
      await db.pool.query(
        `SELECT s.status, s.end_reason, s.telephony_call_id, s.connected_at, s.ended_at, s.duration_seconds,
                c.room_name, s.customer_phone
           FROM survey_calls s LEFT JOIN conversations c ON c.id = s.conversation_id WHERE s.id = $1`,
        [id],
      )
    ).rows[0];

  it('places the call with the selected questions in the business language, and follows it to completed', async () => {
    const dialler = new FakeDialler(db);
    const request = visit();
    const result = await triggerSurveyCall(deps(dialler), request, { wait: true });
    expect(result).toMatchObject({ kind: 'finished', status: 'completed', created: true });
    expect(dialler.placed).toHaveLength(1);
    const [placed] = dialler.placed;
    expect(placed!.number).toBe('+46701234567');
    expect(placed!.settings).toMatchObject({
      surveyCallId: result.surveyCallId,
      businessName: 'Bageriet på Söder',
      language: 'sv-SE',
      timeZone: 'Europe/Stockholm',
      questions: [
        { text: 'Hur var servicen i kassan idag?', followUps: ['Var det bra eller dåligt?'] },
        { text: 'Hittade du det du letade efter?', followUps: [] },
      ],
    });
    const stored = await row(result.surveyCallId);
    expect(stored).toMatchObject({ status: 'completed', end_reason: null, duration_seconds: 40 });
    expect(stored.telephony_call_id).toBe(stored.room_name);
    expect(stored.customer_phone).not.toContain('701234567');
    expect(pii.openText(stored.customer_phone)).toBe('+46701234567');
    const events = await db.pool.query(
      `SELECT e.event_type FROM call_events e JOIN survey_calls s ON s.conversation_id = e.conversation_id
        WHERE s.id = $1 ORDER BY e.occurred_at`,
      [result.surveyCallId],
    );
    expect(events.rows.map((event) => event.event_type)).toEqual(['ai_connected']);

    // The same visit again (the business's system retried): nothing is dialled or counted twice.
    const again = await triggerSurveyCall(deps(dialler), request, { wait: true });
    expect(again).toMatchObject({
      kind: 'done',
      surveyCallId: result.surveyCallId,
      status: 'completed',
      created: false,
    });
    expect(dialler.placed).toHaveLength(1);
    const counter = await db.pool.query(
      'SELECT customer_count FROM survey_customer_counters WHERE organization_id = $1',
      [business],
    );
    expect(counter.rows[0].customer_count).toBe(1);
  });

  it('marks a call nobody answered failed with the reason, and a replayed status changes nothing', async () => {
    const dialler = new FakeDialler(db);
    dialler.next = { status: 'FAILED', reason: 'no_answer: not answered within 30 s', statuses: [] };
    const result = await triggerSurveyCall(deps(dialler), visit(), { wait: true });
    expect(result).toMatchObject({ kind: 'finished', status: 'failed' });
    expect(await row(result.surveyCallId)).toMatchObject({
      status: 'failed',
      end_reason: 'no_answer: not answered within 30 s',
    });
    // A late in_progress (a journal replay) must not move a failed call back.
    const conversation = dialler.rooms.values().next().value!;
    await persist(db, business, 'survey_status', {
      id: randomUUID(),
      call_id: conversation,
      occurred_at: '2026-12-07T10:05:00Z',
      data: { survey_call_id: result.surveyCallId, event: 'ai_connected', status: 'in_progress' },
    });
    expect((await row(result.surveyCallId)).status).toBe('failed');
  });

  it('marks a call that ended mid-survey (hung up) failed with the call reason', async () => {
    const dialler = new FakeDialler(db);
    dialler.next = { status: 'INTERRUPTED', reason: 'caller_hangup', statuses: ['in_progress'] };
    const result = await triggerSurveyCall(deps(dialler), visit(), { wait: true });
    expect(await row(result.surveyCallId)).toMatchObject({ status: 'failed', end_reason: 'caller_hangup' });
  });

  it('dials nobody outside the calling hours and says when it may', async () => {
    const dialler = new FakeDialler(db);
    const saturday = () => new Date('2026-12-12T12:00:00Z');
    const result = await triggerSurveyCall(deps(dialler, saturday), visit(), { wait: true });
    expect(result.kind).toBe('later');
    // Monday 09:00 in Stockholm (UTC+1 in December).
    expect(result.kind === 'later' && result.notBefore.toISOString()).toBe('2026-12-14T08:00:00.000Z');
    expect(dialler.placed).toHaveLength(0);
    expect((await row(result.surveyCallId)).status).toBe('initiated');
  });

  it('records a refused dial as failed with the reason, and refuses a number that is not Swedish', async () => {
    const dialler = new FakeDialler(db);
    dialler.refuse = new Error('number is not on the outbound allowlist');
    const request = visit();
    await expect(triggerSurveyCall(deps(dialler), request, { wait: true })).rejects.toThrow(/allowlist/);
    const id = (
      await db.pool.query('SELECT id FROM survey_calls WHERE verification_id = $1', [request.verificationId])
    ).rows[0].id;
    expect(await row(id)).toMatchObject({
      status: 'failed',
      end_reason: 'dial_refused: number is not on the outbound allowlist',
    });
    await expect(triggerSurveyCall(deps(new FakeDialler(db)), visit('+15550123'), {})).rejects.toThrow(
      /valid Swedish number/,
    );
  });

  it('queues one job per visit with the number sealed, and the queue worker places the call', async () => {
    const queue = surveyQueue({ url: REDIS_URL });
    const dialler = new FakeDialler(db);
    const request = visit('+46 70 765 43 21');
    try {
      const first = await enqueueSurveyCall(queue, request, pii);
      const second = await enqueueSurveyCall(queue, request, pii);
      expect(first.added).toBe(true);
      expect(second).toEqual({ jobId: first.jobId, added: false });
      const job = await queue.getJob(first.jobId);
      expect(JSON.stringify(job!.data)).not.toContain('7654321');
      const worker = startSurveyWorker({
        connection: { url: REDIS_URL, maxRetriesPerRequest: null },
        deps: deps(dialler),
        sealer: pii,
        concurrency: 1,
      });
      try {
        const done = await new Promise<unknown>((resolve, reject) => {
          worker.on('completed', (completed, result) => completed.id === first.jobId && resolve(result));
          worker.on('failed', (_failed, err) => reject(err));
        });
        expect(done).toMatchObject({ kind: 'finished', status: 'completed' });
      } finally {
        await worker.close();
      }
      expect(dialler.placed.map((call) => call.number)).toEqual(['+46707654321']);
    } finally {
      await queue.close();
    }
  });
});
