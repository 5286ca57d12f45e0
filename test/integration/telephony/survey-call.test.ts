import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess } from '../../helpers/cli-process.js';
import { assertSippAvailable, freeUdpPort, MULAW_FIXTURES, SippPhone } from '../../helpers/sip/phone.js';
import {
  callEvents,
  finalizedCall,
  poll,
  startTelephonyStack,
  type TelephonyStack,
  withDiagnostics,
  workerLogTail,
} from '../../helpers/telephony.js';
import { pii } from '../persistence/helpers.js';

/**
 * A feedback survey end to end over SIP: `voice-agent survey call` opens the survey call for
 * a verified visit (counting the customer, selecting the questions, logging the selection),
 * dispatches the agent, whose job dials the customer through livekit-sip; a SIPp UAS answers
 * as the customer, agrees, answers both questions from recorded audio and is hung up on
 * after the goodbye. Every table of the survey then holds the call: survey_calls,
 * question_selection_logs, call_responses, call_events, telephony_provider_logs.
 */

let stack: TelephonyStack;
const holder: { current?: TelephonyStack } = {};
let phonePort: number;
let business: string;
const CUSTOMER = '+46701234567';

beforeAll(async () => {
  assertSippAvailable();
  phonePort = await freeUdpPort();
  stack = await startTelephonyStack(
    {
      SIP_OUTBOUND_ADDRESS: `127.0.0.1:${phonePort}`,
      SIP_OUTBOUND_NUMBER: '+46850001000',
      OUTBOUND_ALLOWLIST: '+1555*,+46*',
    },
    holder,
  );
  business = (
    await stack.db.pool.query<{ id: string }>(
      "INSERT INTO organizations (name) VALUES ('Elm Dental') RETURNING id",
    )
  ).rows[0]!.id;
  // English questions: the test's workers recognize speech offline (pocketsphinx, US English).
  await stack.db.pool.query(
    `INSERT INTO question_configurations (organization_id, question_text, language, frequency, priority, department_tags)
     VALUES ($1, 'How was your visit to the dentist today?', 'en-US', 1, 'high', '["clinic"]'),
            ($1, 'How friendly was the reception desk?', 'en-US', 1, 'medium', '["reception"]')`,
    [business],
  );
  // Any day, any hour: the test runs whenever CI does.
  await stack.db.pool.query(
    `INSERT INTO survey_business_settings (organization_id, calling_days, calling_from, calling_until)
     VALUES ($1, '{1,2,3,4,5,6,7}', '00:00', '23:59')`,
    [business],
  );
}, 180_000);

afterAll(async () => {
  await holder.current?.close();
});

describe('voice-agent survey call: an outbound survey over SIP (SIPp customer)', () => {
  it('asks consent and both questions, records every answer, and leaves its rows in every survey table', async () => {
    const customer = await SippPhone.start({
      role: 'uas',
      port: phonePort,
      timeoutMs: 150_000,
      steps: [
        { wait: true },
        { say: join(MULAW_FIXTURES, 'yes-correct.wav') },
        { wait: true },
        { say: join(MULAW_FIXTURES, 'greet-book.wav') },
        { wait: true },
        { say: join(MULAW_FIXTURES, 'name-john-smith.wav') },
        { expectBye: true },
      ],
    });
    await customer.listening();
    const verification = randomUUID();
    const cli = new CliProcess(
      [
        'survey',
        'call',
        '--business',
        business,
        '--customer',
        CUSTOMER,
        '--verification',
        verification,
        '--json',
      ],
      stack.env,
    );
    await withDiagnostics(
      async () => {
        const answered = await Promise.race([
          customer.waitFor('answered', 90_000),
          cli.exited.then(() => undefined),
        ]);
        expect(answered, `the customer's phone rang and was answered\n${cli.output}`).toBeDefined();
        // Consent, then each question: the customer answers once the agent has spoken.
        let since = answered!.at;
        const replies = [
          ['consent question', 'yes-correct.wav'],
          ['first question', 'greet-book.wav'],
          ['second question', 'name-john-smith.wav'],
        ] as const;
        for (const [what, reply] of replies) {
          // The agent's lines are two sentences each (a greeting or thanks, then the question):
          // answer only after a pause longer than the gap between them.
          const turn = await customer.rtp.waitForTurn({ since, quietMs: 3500, timeoutMs: 40_000 });
          expect(turn, `the customer heard the ${what}`).toBeDefined();
          customer.next();
          const said = await customer.waitFor(`said ${reply}`, 20_000);
          expect(said, `the customer answered the ${what}`).toBeDefined();
          since = said!.at;
        }
        expect(await customer.waitFor('bye', 60_000), 'the agent hung up after its goodbye').toBeDefined();
        expect(await customer.exited).toBe(0);
      },
      async () => ({ sipp: customer.diagnostics(), worker: workerLogTail(stack), cli: cli.output }),
    );

    // A survey that did not complete: what the recognizer heard says why.
    const heard = async () =>
      JSON.stringify(
        (
          await stack.db.pool.query(
            `SELECT t.role, t.text FROM conversation_turns t JOIN survey_calls s ON s.conversation_id = t.conversation_id
              WHERE s.verification_id = $1 ORDER BY t.turn_number`,
            [verification],
          )
        ).rows,
      );
    if ((await cli.exited) !== 0)
      expect.fail(`survey call exited ${await cli.exited}: ${cli.output}\n${await heard()}`);
    const printed = JSON.parse(cli.output.trim().split('\n').at(-1)!);
    expect(printed).toMatchObject({ kind: 'finished', status: 'completed', verificationId: verification });
    expect(cli.output).not.toContain('701234567');

    const surveyCall = (
      await stack.db.pool.query(
        `SELECT id, status, conversation_id, telephony_call_id, customer_phone, customer_count, connected_at, ended_at
           FROM survey_calls WHERE verification_id = $1`,
        [verification],
      )
    ).rows[0];
    expect(surveyCall).toMatchObject({ id: printed.surveyCallId, status: 'completed', customer_count: 1 });
    expect(pii.openText(surveyCall.customer_phone)).toBe(CUSTOMER);
    const call = await finalizedCall(stack.db, 'id = $1', [surveyCall.conversation_id]);
    expect(call).toMatchObject({ flow: 'feedback-survey', direction: 'outbound', status: 'COMPLETED' });
    expect(call.room_name).toBe(surveyCall.telephony_call_id);
    expect(surveyCall.connected_at.getTime()).toBeLessThanOrEqual(surveyCall.ended_at.getTime());

    const selection = await stack.db.pool.query(
      'SELECT selected_questions, estimated_duration, time_budget_seconds FROM question_selection_logs WHERE survey_call_id = $1',
      [surveyCall.id],
    );
    expect(selection.rows).toHaveLength(1);
    expect(selection.rows[0].selected_questions).toHaveLength(2);
    expect(selection.rows[0].estimated_duration).toBeLessThanOrEqual(selection.rows[0].time_budget_seconds);

    const answers = await poll(async () => {
      const rows = await stack.db.pool.query(
        `SELECT question_text, response_text, response_duration, confidence_score::float AS confidence,
                asked_at, responded_at
           FROM call_responses WHERE survey_call_id = $1 ORDER BY asked_at`,
        [surveyCall.id],
      );
      return rows.rows.length === 2 ? rows.rows : undefined;
    }, 'both answers');
    expect(answers.map((answer) => answer.question_text)).toEqual([
      'How was your visit to the dentist today?',
      'How friendly was the reception desk?',
    ]);
    for (const answer of answers) {
      expect(answer.response_text.length).toBeGreaterThan(0);
      expect(answer.response_duration).toBeLessThanOrEqual(60);
      expect(answer.asked_at.getTime()).toBeLessThanOrEqual(answer.responded_at.getTime());
      // Recognized from audio: the recognizer's confidence is kept with the answer.
      expect(answer.confidence).toBeGreaterThanOrEqual(0);
      expect(answer.confidence).toBeLessThanOrEqual(1);
    }

    const steps = (await callEvents(stack.db, call.id)).map((event) => event.event_type);
    for (const step of [
      'initiated',
      'connecting',
      'answered',
      'ai_connected',
      'question_asked',
      'response_received',
      'completed',
    ])
      expect(steps, step).toContain(step);
    expect(steps.filter((step) => step === 'question_asked')).toHaveLength(2);

    const operations = await poll(async () => {
      const rows = await stack.db.pool.query(
        `SELECT operation, success, status_code, provider, provider_call_id, request_payload, latency_ms
           FROM telephony_provider_logs WHERE conversation_id = $1 ORDER BY occurred_at`,
        [call.id],
      );
      return rows.rows.some((row) => row.operation === 'hangup') ? rows.rows : undefined;
    }, 'the hang-up in the provider log');
    expect(operations.map((operation) => operation.operation)).toEqual(['initiate', 'hangup']);
    expect(operations[0]).toMatchObject({ success: true, status_code: 200, provider: 'livekit-sip' });
    expect(operations[0].provider_call_id).toMatch(/^SCL_/);
    expect(JSON.stringify(operations)).not.toContain('701234567');
  }, 240_000);
});
