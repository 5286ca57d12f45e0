import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rmsDbfs } from '../../../src/audio/level.js';
import { sleep } from '../../../src/util/async.js';
import { CliProcess } from '../../helpers/cli-process.js';
import { assertSippAvailable, freeUdpPort, MULAW_FIXTURES, SippPhone } from '../../helpers/sip/phone.js';
import {
  callEvents,
  finalizedCall,
  poll,
  randomNumber,
  startTelephonyStack,
  type TelephonyStack,
  withDiagnostics,
  workerLogTail,
} from '../../helpers/telephony.js';
import { pii } from '../persistence/helpers.js';

/**
 * `voice-agent dial NUMBER --flow NAME --wait` end to end: the CLI creates a room and
 * dispatches the agent; the worker's job asks livekit-sip to call NUMBER through the outbound
 * trunk `sip setup` created, whose address is a SIPp UAS in this test (the "phone" being
 * called). Answered → the agent speaks its greeting over RTP to the phone; busy or no
 * answer → the call is recorded FAILED with the reason, and `dial --wait` says so.
 */

let stack: TelephonyStack;
const holder: { current?: TelephonyStack } = {};
let phonePort: number;
const phones: SippPhone[] = [];
const dials: CliProcess[] = [];
const measured: Record<string, number> = {};

beforeAll(async () => {
  assertSippAvailable();
  phonePort = await freeUdpPort();
  stack = await startTelephonyStack(
    { SIP_OUTBOUND_ADDRESS: `127.0.0.1:${phonePort}`, SIP_OUTBOUND_NUMBER: '+15550142' },
    holder,
  );
}, 180_000);

// One callee at a time listens on the trunk's address; a test that failed early leaves its
// `dial --wait` running, which must not outlive it.
afterEach(async () => {
  for (const d of dials.splice(0)) await d.stop().catch(() => undefined);
  for (const p of phones.splice(0)) await p.stop().catch(() => undefined);
});

afterAll(async () => {
  await holder.current?.close();
  console.log(`telephony outbound measurements: ${JSON.stringify(measured)}`);
});

async function phone(opts: Partial<Parameters<typeof SippPhone.start>[0]>): Promise<SippPhone> {
  const p = await SippPhone.start({ role: 'uas', port: phonePort, steps: [], timeoutMs: 90_000, ...opts });
  phones.push(p);
  await p.listening();
  return p;
}

function dial(number: string, ...extra: string[]): CliProcess {
  const p = new CliProcess(
    ['dial', number, '--flow', 'appointment-booking', '--wait', '--timeout', '120', '--json', ...extra],
    stack.env,
  );
  dials.push(p);
  return p;
}

/** `dial --wait --json` prints one JSON object: the finalized call. */
async function outcomeOf(p: CliProcess): Promise<{ code: number | null; outcome: Record<string, unknown> }> {
  const code = await p.exited;
  const line = p.output
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{') && l.includes('"status"'));
  if (!line) throw new Error(`dial printed no outcome (exit ${code}):\n${p.output}`);
  const outcome = JSON.parse(line);
  if (/cpu exhausted/.test(String(outcome.reason))) {
    // A setup problem, not the product's: livekit-sip refuses outbound calls on a busy CPU.
    throw new Error(
      'livekit-sip refused the outbound call ("cpu exhausted"): the machine is above its max_cpu_utilization. ' +
        'livekit-sip.yaml sets max_cpu_utilization: 1.0; restart the stack (voice-agent stack down && up) so it applies.',
    );
  }
  return { code, outcome };
}

/** Waits for livekit-sip's INVITE at the callee; if `dial` ends first, says why. */
async function invited(callee: SippPhone, cli: CliProcess, timeoutMs = 90_000) {
  const ev = await Promise.race([callee.waitFor('invited', timeoutMs), cli.exited.then(() => undefined)]);
  if (ev) return ev;
  const { outcome } = await outcomeOf(cli); // throws a clear message for a refused call
  throw new Error(`no INVITE reached the callee; the call ended: ${JSON.stringify(outcome)}`);
}

function diagnosed<T>(p: SippPhone, body: () => Promise<T>): Promise<T> {
  return withDiagnostics(body, async () => ({ sipp: p.diagnostics(), worker: workerLogTail(stack) }));
}

describe('voice-agent dial: outbound SIP calls through livekit-sip (SIPp callee)', () => {
  it('refuses a malformed number or an unknown flow without dialling', async () => {
    const bad = new CliProcess(['dial', 'call-me-maybe'], stack.env);
    expect(await bad.exited).toBe(1);
    expect(bad.output).toMatch(/NUMBER must be a phone number/);
    const flow = new CliProcess(['dial', '+15550123', '--flow', 'no-such-flow'], stack.env);
    expect(await flow.exited).toBe(1);
    expect(flow.output).toMatch(/unknown flow "no-such-flow" \(one of: appointment-booking/);
    expect(flow.output).not.toContain('15550123');
    const rooms = await stack.db.pool.query('SELECT count(*)::int AS n FROM conversations');
    expect(rooms.rows[0].n).toBe(0);
  }, 120_000);

  it('dials the number, the callee answers, and the agent speaks its greeting to it', async () => {
    const number = randomNumber();
    const callee = await phone({
      steps: [
        { wait: true },
        { say: join(MULAW_FIXTURES, 'greet-book.wav') },
        { wait: true },
        { hangup: true },
      ],
    });
    const started = Date.now();
    const cli = dial(number);
    await diagnosed(callee, async () => {
      const invite = await invited(callee, cli);
      measured.dial_to_invite_ms = invite.at - started;
      // To the number dialled, from the trunk's number.
      expect(callee.messages()).toMatch(new RegExp(`INVITE sip:\\${number}@127\\.0\\.0\\.1:${phonePort}`));
      expect(callee.messages()).toMatch(/From: .*<sip:\+15550142@/);
      const answered = await callee.waitFor('answered', 10_000);
      expect(answered).toBeDefined();
      const greeting = await callee.rtp.waitForTurn({ since: answered!.at, timeoutMs: 40_000 });
      expect(greeting, 'the callee heard the agent').toBeDefined();
      measured.answer_to_first_agent_audio_ms = greeting!.start - answered!.at;
      expect(rmsDbfs(callee.rtp.speechPcm(answered!.at))).toBeGreaterThan(-40);
      expect(greeting!.end - greeting!.start).toBeGreaterThan(1500);

      callee.next(); // the callee answers the question
      const said = await callee.waitFor('said', 20_000);
      expect(await callee.rtp.waitForTurn({ since: said!.at, timeoutMs: 30_000 })).toBeDefined();
      callee.next(); // and hangs up
      expect(await callee.exited).toBe(0);
    });

    const { code, outcome } = await outcomeOf(cli);
    expect(outcome).toMatchObject({ status: 'INTERRUPTED', reason: 'caller_hangup', direction: 'outbound' });
    expect(String(outcome.room)).toMatch(/^call-out-[0-9a-f]{12}$/);
    expect(code).toBe(2); // dial --wait: the call did not complete
    expect(cli.output).not.toContain(number.slice(1));

    const row = await finalizedCall(stack.db, 'room_name = $1', [outcome.room]);
    measured.outbound_call_duration_s = row.duration_seconds ?? -1;
    expect(row.id).toBe(outcome.call_id);
    expect(row.direction).toBe('outbound');
    expect(row.sip_call_id).toMatch(/^SCL_/);
    expect(pii.decrypt(row.caller_number_encrypted!)).toBe(number);
    expect(row.caller_number_hash?.equals(pii.hash(number))).toBe(true);
    const steps = (await callEvents(stack.db, row.id)).map((e) => e.event_type);
    expect(steps.slice(0, 5)).toEqual(['initiated', 'connecting', 'ringing', 'answered', 'in_progress']);
    expect(steps).toContain('hangup');
    const turns = await poll(async () => {
      const r = await stack.db.pool.query(
        'SELECT role, text FROM conversation_turns WHERE conversation_id = $1 ORDER BY turn_number',
        [row.id],
      );
      return r.rows.some((t) => t.role === 'user') ? r.rows : undefined;
    }, 'the callee turn');
    expect(turns[0]).toMatchObject({ role: 'agent' });
    expect(String(turns[0].text)).toMatch(/Thank you for calling/);
  }, 180_000);

  it('never dials a customer compliance refuses: the decision is recorded and audited, the call FAILED', async () => {
    const customer = (
      await stack.db.pool.query<{ id: string }>(
        "INSERT INTO customers (organization_id, first_name) VALUES ('00000000-0000-0000-0000-000000000001', 'Kim') RETURNING id",
      )
    ).rows[0]!.id;
    await stack.db.pool.query(
      `INSERT INTO customer_profiles (organization_id, customer_id, timezone, do_not_contact)
       VALUES ('00000000-0000-0000-0000-000000000001', $1, 'America/New_York', true)`,
      [customer],
    );
    const cli = dial(randomNumber(), '--customer', customer);
    const { code, outcome } = await outcomeOf(cli);
    expect(code).toBe(2);
    expect(outcome).toMatchObject({ status: 'FAILED', reason: 'compliance_blocked: do_not_contact' });
    const row = await finalizedCall(stack.db, 'room_name = $1', [outcome.room]);
    const steps = (await callEvents(stack.db, row.id)).map((e) => e.event_type);
    expect(steps).not.toContain('ringing'); // nothing was dialled
    const decision = await stack.db.pool.query(
      'SELECT allowed, blocked_by FROM compliance_decisions WHERE customer_id = $1',
      [customer],
    );
    expect(decision.rows).toEqual([{ allowed: false, blocked_by: ['do_not_contact'] }]);
    const audit = await stack.db.pool.query(
      "SELECT count(*)::int AS n FROM audit_logs WHERE action = 'contact_blocked' AND entity_id = $1",
      [customer],
    );
    expect(audit.rows[0].n).toBe(1);
    const errors = await stack.db.pool.query('SELECT error_type FROM error_logs WHERE conversation_id = $1', [
      row.id,
    ]);
    expect(errors.rows).toEqual([]);
  }, 120_000);

  it("refuses a second call while the organization's only line (max_agents 1) is in use, before dialling", async () => {
    const org = (
      await stack.db.pool.query<{ id: string }>(
        "INSERT INTO organizations (name, max_agents) VALUES ('One Line', 1) RETURNING id",
      )
    ).rows[0]!.id;
    const callee = await phone({ steps: [{ wait: true }, { hangup: true }] });
    const first = dial(randomNumber(), '--org', org);
    await diagnosed(callee, async () => {
      await invited(callee, first);
      expect(await callee.waitFor('answered', 10_000)).toBeDefined();
      // While the first call is up, the second is refused by the worker without a dial.
      const second = dial(randomNumber(), '--org', org);
      const { code, outcome } = await outcomeOf(second);
      expect(code).toBe(2);
      expect(outcome).toMatchObject({
        status: 'FAILED',
        reason: 'organization_call_limit: 1 concurrent call in progress',
      });
      const row = await finalizedCall(stack.db, 'room_name = $1', [outcome.room]);
      expect((await callEvents(stack.db, row.id)).map((e) => e.event_type)).not.toContain('ringing');
      callee.next();
      expect(await callee.exited).toBe(0);
    });
    await outcomeOf(first);
    // The first call's place is free again.
    const again = dial(randomNumber(), '--org', org, '--ring-timeout', '2');
    const { outcome } = await outcomeOf(again);
    expect(outcome.reason).not.toMatch(/organization_call_limit/);
  }, 180_000);

  it('busy (486): the call is FAILED with the SIP status as its reason', async () => {
    const number = randomNumber();
    const callee = await phone({ reject: '486 Busy Here' });
    const cli = dial(number);
    await diagnosed(callee, async () => {
      await invited(callee, cli);
      expect(await callee.waitFor('rejected', 10_000)).toBeDefined();
      expect(await callee.exited).toBe(0);
    });
    const { code, outcome } = await outcomeOf(cli);
    expect(outcome).toMatchObject({
      status: 'FAILED',
      reason: 'busy: SIP 486 Busy Here',
      direction: 'outbound',
    });
    expect(code).toBe(2);
    const row = await finalizedCall(stack.db, 'room_name = $1', [outcome.room]);
    expect(row.caller_number_hash?.equals(pii.hash(number))).toBe(true);
    const steps = (await callEvents(stack.db, row.id)).map((e) => e.event_type);
    expect(steps).toEqual(['initiated', 'connecting', 'ringing', 'failed']);
    // A busy line is the call's outcome, not a fault of ours: no error row for it. An absence
    // has no condition to poll for, so give a late row a second to arrive.
    await sleep(1000);
    const errors = await stack.db.pool.query('SELECT error_type FROM error_logs WHERE conversation_id = $1', [
      row.id,
    ]);
    expect(errors.rows).toEqual([]);
  }, 180_000);

  it('no answer: the ring timeout ends the attempt, FAILED no_answer', async () => {
    const number = randomNumber();
    const callee = await phone({ noAnswer: true });
    const started = Date.now();
    const cli = dial(number, '--ring-timeout', '4');
    await diagnosed(callee, async () => {
      const invite = await invited(callee, cli);
      const cancelled = await callee.waitFor('cancelled', 30_000);
      expect(cancelled, 'livekit-sip gave up ringing with a CANCEL').toBeDefined();
      measured.no_answer_invite_to_cancel_ms = cancelled!.at - invite.at;
      // livekit-sip gives up after the ring timeout we asked for (4 s), not before.
      expect(cancelled!.at - invite.at).toBeGreaterThan(3000);
      expect(await callee.exited).toBe(0);
    });
    const { outcome } = await outcomeOf(cli);
    measured.no_answer_dial_to_outcome_ms = Date.now() - started;
    expect(outcome).toMatchObject({ status: 'FAILED', direction: 'outbound' });
    expect(outcome.reason).toBe('no_answer: not answered within 4 s');
  }, 180_000);
});
