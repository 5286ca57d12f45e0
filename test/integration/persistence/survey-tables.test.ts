import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { surveyRecords } from '../../../agents/feedback-survey/records.js';
import { selectQuestions } from '../../../agents/feedback-survey/selection.js';
import { loadBusinessQuestions } from '../../../agents/feedback-survey/store/questions.js';
import { openSurveyCall as openVisitSurvey } from '../../../agents/feedback-survey/store/survey-calls.js';
import { flowMigrationSets } from '../../../agents/index.js';
import { PiiKeyRing } from '../../../src/persistence/pii.js';
import { withOrganization } from '../../../src/persistence/tenant-scope.js';
import { createTestDatabase, type TestDatabase } from './helpers.js';

// The feedback survey's tables (seed 003) on the real Postgres: the seed's rules and the
// call state machine are the database's, and a business sees only its own rows.

describe('feedback survey tables', () => {
  let db: TestDatabase;
  let business: string;
  let other: string;

  /** As the worker's role, scoped to one business: RLS applies as in production. */
  function asWorker<T>(organizationId: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return withOrganization(db.pool, organizationId, async (client) => {
      await client.query('SET LOCAL ROLE voice_worker');
      return fn(client);
    });
  }

  async function openSurveyCall(organizationId: string): Promise<string> {
    return asWorker(organizationId, async (client) => {
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO survey_calls (organization_id, verification_id, customer_phone, customer_phone_hash, customer_count)
         VALUES ($1, $2, 'sealed', '\\x01', 3) RETURNING id`,
        [organizationId, randomUUID()],
      );
      return rows[0]!.id;
    });
  }

  function setStatus(organizationId: string, id: string, status: string): Promise<unknown> {
    return asWorker(organizationId, (client) =>
      client.query('UPDATE survey_calls SET status = $2 WHERE id = $1', [id, status]),
    );
  }

  beforeAll(async () => {
    db = await createTestDatabase({ flows: flowMigrationSets() });
    const inserted = await db.pool.query<{ id: string }>(
      "INSERT INTO organizations (name) VALUES ('Bageri Söder'), ('Other Shop') RETURNING id",
    );
    [business, other] = inserted.rows.map((row) => row.id) as [string, string];
  });

  afterAll(async () => {
    await db.drop();
  });

  it('lets a survey call follow the seed state machine and refuses every other transition', async () => {
    const completed = await openSurveyCall(business);
    for (const status of ['connecting', 'in_progress', 'completed'])
      await setStatus(business, completed, status);
    await expect(setStatus(business, completed, 'failed')).rejects.toThrow(
      /cannot go from completed to failed/,
    );
    await expect(setStatus(business, completed, 'in_progress')).rejects.toThrow(
      /from completed to in_progress/,
    );

    const skipping = await openSurveyCall(business);
    await expect(setStatus(business, skipping, 'in_progress')).rejects.toThrow(
      /from initiated to in_progress/,
    );
    await expect(setStatus(business, skipping, 'timeout')).rejects.toThrow(/from initiated to timeout/);
    await setStatus(business, skipping, 'failed');

    const timedOut = await openSurveyCall(business);
    for (const status of ['connecting', 'in_progress', 'timeout'])
      await setStatus(business, timedOut, status);
    await expect(
      asWorker(business, (client) =>
        client.query(
          `INSERT INTO survey_calls (organization_id, verification_id, customer_phone, customer_phone_hash, customer_count, status)
           VALUES ($1, $2, 'sealed', '\\x01', 3, 'completed')`,
          [business, randomUUID()],
        ),
      ),
    ).rejects.toThrow(/starts as initiated/);
    const { rows } = await db.pool.query('SELECT id, status FROM survey_calls ORDER BY status');
    expect(rows).toEqual([
      { id: completed, status: 'completed' },
      { id: skipping, status: 'failed' },
      { id: timedOut, status: 'timeout' },
    ]);
  });

  it('refuses questions, answers and selections that break the seed rules', async () => {
    const question = (overrides: {
      text?: string;
      frequency?: number;
      tags?: string;
      from?: string;
      until?: string;
    }) =>
      db.pool.query(
        `INSERT INTO question_configurations (organization_id, question_text, frequency, priority, department_tags,
           active_from, active_until)
         VALUES ($1, $2, $3, 'high', $4, $5, $6)`,
        [
          business,
          overrides.text ?? 'Hur var ditt besök idag?',
          overrides.frequency ?? 5,
          overrides.tags ?? '["kassa"]',
          overrides.from ?? null,
          overrides.until ?? null,
        ],
      );
    await question({});
    await expect(question({ from: '2026-05-02', until: '2026-05-01' })).rejects.toThrow(
      /question_active_period/,
    );
    for (const broken of [
      { text: 'Kort?' },
      { frequency: 101 },
      { frequency: 0 },
      { tags: '[]' },
      { tags: '{}' },
    ]) {
      await expect(question(broken), JSON.stringify(broken)).rejects.toThrow(/check constraint/);
    }

    const call = await openSurveyCall(business);
    const answer = (duration: number, confidence: number, sentiment: number, respondedOffset: string) =>
      db.pool.query(
        `INSERT INTO call_responses (organization_id, survey_call_id, question_text, response_text,
           response_duration, confidence_score, sentiment_score, asked_at, responded_at)
         VALUES ($1, $2, 'Hur var ditt besök idag?', 'bra', $3, $4, $5, NOW(), NOW() + $6::interval)`,
        [business, call, duration, confidence, sentiment, respondedOffset],
      );
    await answer(12, 0.8, 0.5, '12 seconds');
    await expect(answer(61, 0.8, 0.5, '1 second')).rejects.toThrow(/check constraint/);
    await expect(answer(5, 1.2, 0.5, '1 second')).rejects.toThrow(/check constraint/);
    await expect(answer(5, 0.8, -1.5, '1 second')).rejects.toThrow(/check constraint/);
    await expect(answer(5, 0.8, 0.1, '-1 second')).rejects.toThrow(/response_after_question/);
    await expect(
      db.pool.query(
        `INSERT INTO question_selection_logs (organization_id, customer_count, selected_questions,
           selection_algorithm, selection_criteria, time_budget_seconds, estimated_duration)
         VALUES ($1, 5, '[]', 'test', '{}', 90, 95)`,
        [business],
      ),
    ).rejects.toThrow(/selection_within_budget/);
  });

  it("shows a business only its own survey rows and refuses writing another's", async () => {
    await openSurveyCall(other);
    const seen = await asWorker(other, (client) =>
      client.query<{ organization_id: string }>('SELECT organization_id FROM survey_calls'),
    );
    expect(seen.rows.length).toBeGreaterThan(0);
    expect(new Set(seen.rows.map((row) => row.organization_id))).toEqual(new Set([other]));
    await expect(
      asWorker(other, (client) =>
        client.query(
          `INSERT INTO survey_calls (organization_id, verification_id, customer_phone, customer_phone_hash, customer_count)
           VALUES ($1, $2, 'sealed', '\\x01', 3)`,
          [business, randomUUID()],
        ),
      ),
    ).rejects.toThrow(/row-level security/);
    const questions = await asWorker(other, (client) =>
      client.query('SELECT id FROM question_configurations'),
    );
    expect(questions.rows).toEqual([]);
  });

  it("selects from a business's stored questions, the longest-waiting first", async () => {
    const shop = (
      await db.pool.query<{ id: string }>(
        "INSERT INTO organizations (name) VALUES ('Kafé Norr') RETURNING id",
      )
    ).rows[0]!.id;
    const inserted = await db.pool.query<{ id: string; question_text: string }>(
      `INSERT INTO question_configurations (organization_id, question_text, frequency, priority, department_tags, active_until)
       VALUES ($1, 'Hur smakade kaffet idag?', 1, 'high', '["kafé"]', NULL),
              ($1, 'Hur var bemötandet i kassan?', 1, 'high', '["kassa"]', NULL),
              ($1, 'Vad tyckte du om julbordet?', 1, 'high', '["kafé"]', '2026-01-06')
       RETURNING id, question_text`,
      [shop],
    );
    const [coffee, checkout, christmas] = inserted.rows.map((row) => row.id) as [string, string, string];
    const call = await openSurveyCall(shop);
    await db.pool.query(
      `INSERT INTO call_responses (organization_id, survey_call_id, question_id, question_text, asked_at)
       VALUES ($1, $2, $3, 'Hur smakade kaffet idag?', '2026-12-01T10:00:00Z')`,
      [shop, call, coffee],
    );
    const questions = await asWorker(shop, loadBusinessQuestions);
    expect(questions.map((question) => question.id).sort()).toEqual([coffee, checkout, christmas].sort());
    expect(questions.find((question) => question.id === coffee)?.last_asked_at).toBe(
      '2026-12-01T10:00:00.000Z',
    );
    expect(questions.find((question) => question.id === christmas)?.active_until).toBe('2026-01-06');
    const selection = selectQuestions(questions, { customerCount: 1, budgetSeconds: 60, date: '2026-12-07' });
    expect(selection.selected[0]).toBe(checkout);
    expect(selection.skipped).toContainEqual({ id: christmas, reason: 'expired on 2026-01-06' });
    expect(await asWorker(business, loadBusinessQuestions)).not.toContainEqual(
      expect.objectContaining({ id: checkout }),
    );
  });

  it('writes survey_response records into call_responses once, with their call events, and refuses an answer with no survey call', async () => {
    const conversation = randomUUID();
    await db.pool.query(
      `INSERT INTO conversations (id, organization_id, session_id, room_name, direction, flow)
       VALUES ($1, $2, $3, 'survey-room', 'outbound', 'feedback-survey')`,
      [conversation, business, `session-${conversation}`],
    );
    const surveyCall = await openSurveyCall(business);
    await db.pool.query('UPDATE survey_calls SET conversation_id = $1 WHERE id = $2', [
      conversation,
      surveyCall,
    ]);
    const question = (
      await db.pool.query<{ id: string }>(
        `INSERT INTO question_configurations (organization_id, question_text, frequency, priority, department_tags)
         VALUES ($1, 'Hur var servicen i kassan?', 1, 'high', '["kassa"]') RETURNING id`,
        [business],
      )
    ).rows[0]!.id;
    const data = surveyRecords.survey_response.schema.parse({
      survey_call_id: surveyCall,
      question_id: question,
      question_text: 'Hur var servicen i kassan?',
      response_text: 'jättebra',
      unclear: false,
      follow_ups_asked: 0,
      asked_at: '2026-12-07T10:00:05Z',
      responded_at: '2026-12-07T10:00:11Z',
      response_duration: 6,
      confidence_score: 0.82,
      sentiment_score: 0.46,
      ai_analysis: { method: 'lexicon', evidence: ['jättebra'] },
    });
    const row = { id: randomUUID(), call_id: conversation, occurred_at: '2026-12-07T10:00:11Z', data };
    const write = (rows: (typeof row)[]) =>
      withOrganization(db.pool, business, async (client) => {
        await client.query('SET LOCAL ROLE voice_persister');
        await surveyRecords.survey_response.write(client, rows);
      });
    await write([row]);
    await write([row]);
    const stored = await db.pool.query(
      'SELECT survey_call_id, question_id, response_duration, confidence_score::float AS confidence, sentiment_score::float AS sentiment, ai_analysis FROM call_responses WHERE id = $1',
      [row.id],
    );
    expect(stored.rows).toEqual([
      {
        survey_call_id: surveyCall,
        question_id: question,
        response_duration: 6,
        confidence: 0.82,
        sentiment: 0.46,
        ai_analysis: { method: 'lexicon', evidence: ['jättebra'], unclear: false, follow_ups_asked: 0 },
      },
    ]);
    const events = await db.pool.query(
      'SELECT event_type, source, occurred_at FROM call_events WHERE conversation_id = $1 ORDER BY occurred_at',
      [conversation],
    );
    expect(events.rows).toEqual([
      { event_type: 'question_asked', source: 'ai', occurred_at: new Date('2026-12-07T10:00:05Z') },
      { event_type: 'response_received', source: 'customer', occurred_at: new Date('2026-12-07T10:00:11Z') },
    ]);
    const missing = randomUUID();
    await expect(
      write([{ ...row, id: randomUUID(), data: { ...data, survey_call_id: missing } }]),
    ).rejects.toThrow(new RegExp(`survey call ${missing} does not exist`));
    expect(() => surveyRecords.survey_response.schema.parse({ ...data, response_duration: 61 })).toThrow();
  });

  it('opens one survey call per verified visit: counts the customer, selects, logs, seals the number', async () => {
    const shop = (
      await db.pool.query<{ id: string }>(
        "INSERT INTO organizations (name) VALUES ('Frisör Väst') RETURNING id",
      )
    ).rows[0]!.id;
    await db.pool.query(
      `INSERT INTO question_configurations (organization_id, question_text, frequency, priority, department_tags)
       VALUES ($1, 'Hur nöjd är du med klippningen?', 1, 'high', '["salong"]'),
              ($1, 'Hur var väntetiden idag?', 2, 'medium', '["salong"]')`,
      [shop],
    );
    const ring = new PiiKeyRing({
      keys: new Map([['k1', 'ab'.repeat(32)]]),
      activeKeyId: 'k1',
      hashKeyHex: 'cd'.repeat(32),
    });
    const open = (verificationId: string, phone = '070-123 45 67') =>
      asWorker(shop, (client) =>
        openVisitSurvey(client, shop, { verificationId, customerPhone: phone, date: '2026-12-07' }, ring),
      );
    const first = await open(randomUUID());
    const secondVisit = randomUUID();
    const second = await open(secondVisit);
    expect([first.customerCount, second.customerCount]).toEqual([1, 2]);
    expect(first.selection.selected).toHaveLength(1);
    expect(second.selection.selected).toHaveLength(2);
    const again = await open(secondVisit);
    expect(again).toMatchObject({ id: second.id, customerCount: 2, created: false });
    expect(again.selection.selected).toEqual(second.selection.selected);
    const stored = await db.pool.query(
      'SELECT customer_phone, customer_phone_hash, status FROM survey_calls WHERE id = $1',
      [second.id],
    );
    expect(stored.rows[0].status).toBe('initiated');
    expect(stored.rows[0].customer_phone).not.toContain('701234567');
    expect(ring.openText(stored.rows[0].customer_phone)).toBe('+46701234567');
    const logs = await db.pool.query(
      'SELECT count(*)::int AS n FROM question_selection_logs WHERE organization_id = $1',
      [shop],
    );
    expect(logs.rows[0].n).toBe(2);
    await expect(open(randomUUID(), '+1 555 010 0199')).rejects.toThrow(/valid Swedish number/);
    const counter = await db.pool.query(
      'SELECT customer_count FROM survey_customer_counters WHERE organization_id = $1',
      [shop],
    );
    expect(counter.rows[0].customer_count).toBe(2);
  });
});
