import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmsDbfs } from '../../../src/audio/level.js';
import { UNAVAILABLE_MESSAGE } from '../../../src/conversation/unavailable-flow.js';
import { sleep } from '../../../src/util/async.js';
import { assertSippAvailable, MULAW_FIXTURES, SippPhone } from '../../helpers/sip/phone.js';
import type { PhoneStep } from '../../helpers/sip/scenario.js';
import {
  callEvents,
  finalizedCall,
  LIVEKIT_SIP,
  poll,
  randomNumber,
  startTelephonyStack,
  type TelephonyStack,
  withDiagnostics,
  workerLogTail,
} from '../../helpers/telephony.js';
import { pii } from '../persistence/helpers.js';

/**
 * Real SIP calls into the product: SIPp dials livekit-sip (127.0.0.1:5060) at the number
 * `voice-agent sip setup` provisioned, livekit-sip dispatches the call to this file's
 * `voice-agent worker start`, the agent answers with the offline providers, and
 * `voice-agent persister` writes the call into Postgres. The caller's side hears the agent
 * through a Node UDP socket announced in its SDP (PCMU RTP, decoded and measured), speaks
 * recorded utterances through SIPp's rtp_stream, and presses keys as RFC 4733 events.
 */

const TRANSFER_TO = 'sip:+15550999@127.0.0.1:5070';
const wav = (name: string) => join(MULAW_FIXTURES, name);
let stack: TelephonyStack;
const holder: { current?: TelephonyStack } = {};
const phones: SippPhone[] = [];
const measured: Record<string, number> = {};

beforeAll(async () => {
  assertSippAvailable();
  stack = await startTelephonyStack({ SIP_TRANSFER_TO: TRANSFER_TO }, holder);
}, 180_000);

afterAll(async () => {
  for (const p of phones) await p.stop().catch(() => undefined);
  await holder.current?.close();
  console.log(`telephony inbound measurements: ${JSON.stringify(measured)}`);
});

async function call(caller: string, steps: PhoneStep[]): Promise<SippPhone> {
  const phone = await SippPhone.start({
    role: 'uac',
    target: LIVEKIT_SIP,
    service: stack.number,
    caller,
    steps,
    timeoutMs: 90_000,
  });
  phones.push(phone);
  return phone;
}

/** Runs `body`; on failure, appends what sipp, the agent (its transcript) and the worker saw. */
async function transcriptOf(caller: string): Promise<string> {
  return stack.db.pool
    .query(
      `SELECT t.role, t.text, t.state_at_turn FROM conversation_turns t JOIN conversations c ON c.id = t.conversation_id
        WHERE c.caller_number_hash = $1 ORDER BY t.turn_number`,
      [pii.hash(caller)],
    )
    .then((r) => r.rows.map((t) => `${t.role} [${t.state_at_turn}]: ${t.text}`).join('\n'))
    .catch((x: Error) => x.message);
}

function diagnosed<T>(phone: SippPhone, caller: string, body: () => Promise<T>): Promise<T> {
  return withDiagnostics(body, async () => ({
    sipp: phone.diagnostics(),
    transcript: await transcriptOf(caller),
    worker: workerLogTail(stack),
  }));
}

/** The caller's number must never appear in our own log lines (worker, job, persister). */
function expectNumberNotLogged(caller: string) {
  const digits = caller.replace(/\D/g, '');
  const ours = [stack.worker.output, stack.persister.output]
    .join('\n')
    .split('\n')
    .filter((l) => /"name":"(call|worker|persister|events|producer)"/.test(l));
  expect(ours.length).toBeGreaterThan(0);
  expect(ours.filter((l) => l.includes(digits))).toEqual([]);
}

describe('inbound SIP calls through livekit-sip (SIPp caller)', () => {
  it('answers, hears the caller, replies, and records the call with the number encrypted', async () => {
    const caller = randomNumber();
    const phone = await call(caller, [
      { wait: true },
      { say: wav('greet-book.wav') },
      { wait: true },
      { hangup: true },
    ]);
    await diagnosed(phone, caller, async () => {
      const answered = await phone.waitFor('answered', 40_000);
      expect(answered, 'livekit-sip answered the INVITE (200 OK)').toBeDefined();
      const greeting = await phone.rtp.waitForTurn({ since: answered!.at, timeoutMs: 40_000 });
      expect(greeting, 'the agent greeted the caller over RTP').toBeDefined();
      measured.invite_to_200_ms = answered!.at - phone.startedAt;
      measured.invite_to_first_agent_audio_ms = greeting!.start - phone.startedAt;
      measured.greeting_ms = greeting!.end - greeting!.start;
      // PCMU from livekit-sip, decoded: real speech, not silence or comfort noise.
      const greetingPcm = phone.rtp.speechPcm(answered!.at);
      measured.greeting_dbfs = Math.round(rmsDbfs(greetingPcm) * 10) / 10;
      expect(rmsDbfs(greetingPcm)).toBeGreaterThan(-40);
      expect(greeting!.end - greeting!.start).toBeGreaterThan(1500);
      expect(phone.rtp.audioPackets().every((p) => p.payload.length === 160)).toBe(true);

      phone.next(); // "hello, I'd like to book an appointment"
      const said = await phone.waitFor('said', 20_000);
      expect(said).toBeDefined();
      const reply = await phone.rtp.waitForTurn({ since: said!.at, timeoutMs: 30_000 });
      expect(reply, 'the agent answered what the caller said').toBeDefined();
      measured.caller_end_to_agent_reply_ms = reply!.start - said!.at;
      expect(rmsDbfs(phone.rtp.speechPcm(said!.at))).toBeGreaterThan(-40);

      phone.next(); // hang up
      expect(await phone.exited, 'sipp: BYE answered, call completed').toBe(0);
    });

    const row = await finalizedCall(stack.db, 'caller_number_hash = $1', [pii.hash(caller)]);
    measured.inbound_call_duration_s = row.duration_seconds ?? -1;
    expect(row.direction).toBe('inbound');
    expect(row.flow).toBe('appointment-booking');
    expect(row.sip_call_id).toMatch(/^SCL_/); // livekit-sip's id of this SIP call
    expect(row.trunk_number).toBe(stack.number);
    // The number is stored encrypted (decrypts with the key, not readable without it) …
    expect(row.caller_number_encrypted).not.toBeNull();
    expect(row.caller_number_encrypted!.toString('latin1')).not.toContain(caller.replace('+', ''));
    expect(pii.decrypt(row.caller_number_encrypted!)).toBe(caller);
    // … and nowhere in clear: the room is named after the number dialled, not the caller's.
    expect(row.room_name.startsWith('call-')).toBe(true);
    expect(row.room_name).not.toContain(caller.replace('+', ''));
    // … nor in any log line of the worker, the framework's own included (its participant
    // identity is `sip_<number>`).
    expect(stack.worker.output).toMatch(/caller joined/);
    expect(stack.worker.output).not.toContain(caller.replace('+', ''));
    expect(row.status).toBe('INTERRUPTED');
    expect(row.end_reason).toBe('caller_hangup');
    expect(row.started_event_id).not.toBeNull();
    expect(row.ended_event_id).not.toBeNull();
    expect(row.duration_seconds).toBeGreaterThan(3);

    const turns = await poll(async () => {
      const r = await stack.db.pool.query(
        'SELECT role, text FROM conversation_turns WHERE conversation_id = $1 ORDER BY turn_number',
        [row.id],
      );
      return r.rows.filter((t) => t.role === 'agent').length >= 2 ? r.rows : undefined;
    }, 'agent turns');
    const user = turns.filter((t) => t.role === 'user').map((t) => String(t.text));
    // The caller was heard and transcribed over the 8 kHz PCMU path. What pocketsphinx makes of
    // the words varies with where the VAD cuts the live RTP stream ("moore ninth of july" once
    // on a busy machine), so this asserts a transcript, not its wording: recognition quality
    // is measured by `npm run bench:recognition`, not here.
    expect(user.join(' ').trim().split(/\s+/).length).toBeGreaterThanOrEqual(2);
    const steps = (await callEvents(stack.db, row.id)).map((e) => e.event_type);
    expect(steps.slice(0, 4)).toEqual(['initiated', 'connecting', 'answered', 'in_progress']);
    expect(steps).toContain('hangup');
    expect(steps.filter((s) => ['completed', 'failed', 'timeout'].includes(s))).toHaveLength(1);
    expectNumberNotLogged(caller);
  }, 150_000);

  it('takes key presses (RFC 4733) at the greeting: 1 books, and the flow moves on', async () => {
    const caller = randomNumber();
    const phone = await call(caller, [{ wait: true }, { hangup: true }]);
    await diagnosed(phone, caller, async () => {
      const answered = await phone.waitFor('answered', 40_000);
      expect(answered).toBeDefined();
      expect(await phone.rtp.waitForTurn({ since: answered!.at, timeoutMs: 40_000 })).toBeDefined();
      const pressedAt = Date.now();
      await phone.rtp.sendDtmf('1'); // "press 1 to book"
      const reply = await phone.rtp.waitForTurn({ since: pressedAt, timeoutMs: 30_000 });
      expect(reply, 'the agent answered the key press').toBeDefined();
      measured.dtmf_to_agent_reply_ms = reply!.start - pressedAt;
      phone.next();
      expect(await phone.exited).toBe(0);
    });

    const row = await finalizedCall(stack.db, 'caller_number_hash = $1', [pii.hash(caller)]);
    const events = await poll(async () => {
      const e = await callEvents(stack.db, row.id);
      return e.some((x) => x.event_type === 'dtmf_received') ? e : undefined;
    }, 'a dtmf_received call event');
    const dtmf = events.filter((e) => e.event_type === 'dtmf_received');
    expect(dtmf).toHaveLength(1); // one press, one event (RFC 4733 retransmissions deduplicated)
    expect(dtmf[0]!.source).toBe('customer');
    // Keypad digits are personal data unless a menu choice: the lifecycle step stores it masked.
    expect(dtmf[0]!.event_data).toEqual({ digit: '•' });
    const transitions = await poll(async () => {
      const r = await stack.db.pool.query(
        'SELECT from_state, to_state, trigger_type FROM state_transitions WHERE conversation_id = $1 ORDER BY transition_time',
        [row.id],
      );
      return r.rows.some((t) => t.trigger_type === 'dtmf') ? r.rows : undefined;
    }, 'a transition triggered by the key');
    const byKey = transitions.find((t) => t.trigger_type === 'dtmf')!;
    expect(byKey.from_state).toBe('greeting');
    expect(byKey.to_state).toBe('collect_name');
    const slots = await stack.db.pool.query(
      `SELECT slot_name, slot_value FROM extracted_slots WHERE conversation_id = $1`,
      [row.id],
    );
    expect(slots.rows).toContainEqual({ slot_name: 'intent', slot_value: 'book' });
  }, 150_000);

  it('caller hangs up mid-sentence: the job ends within seconds, INTERRUPTED, finalized once', async () => {
    const caller = randomNumber();
    const phone = await call(caller, [{ wait: true }, { hangup: true }]);
    let byeAt = 0;
    await diagnosed(phone, caller, async () => {
      const answered = await phone.waitFor('answered', 40_000);
      expect(answered).toBeDefined();
      // Hang up while the agent is still speaking its greeting.
      expect(await phone.rtp.waitForSpeech({ since: answered!.at, timeoutMs: 40_000 })).toBeDefined();
      // Half a second of its speech (25 loud 20 ms frames) has reached the phone.
      await poll(async () => phone.rtp.speechPackets(answered!.at).length >= 25 || undefined, 'agent speech');
      byeAt = Date.now();
      phone.next();
      expect(await phone.exited).toBe(0);
      // The agent was cut off: no more audio comes once the call is gone (an absence, so
      // watched for a fixed window).
      await sleep(1500);
      expect(phone.rtp.audioPackets(byeAt + 1000)).toHaveLength(0);
    });

    const row = await finalizedCall(stack.db, 'caller_number_hash = $1', [pii.hash(caller)]);
    measured.bye_to_ended_at_ms = row.ended_at!.getTime() - byeAt;
    expect(row.ended_at!.getTime() - byeAt).toBeLessThan(5000);
    expect(row.status).toBe('INTERRUPTED');
    expect(row.end_reason).toBe('caller_hangup');
    expect(row.final_state).toBe('greeting');
    expect(row.ended_event_id).not.toBeNull();
    // Exactly one end: one customer hang-up, one terminal step, one "call ended" log line.
    await sleep(1500); // a second end would come late (an absence): give it the time to show
    const steps = await callEvents(stack.db, row.id);
    expect(steps.filter((s) => s.event_type === 'hangup').map((s) => s.source)).toEqual(['customer']);
    expect(steps.filter((s) => ['completed', 'failed', 'timeout'].includes(s.event_type))).toHaveLength(1);
    const ended = stack.worker.output
      .split('\n')
      .filter((l) => l.includes(row.id) && l.includes('"msg":"call ended"'));
    expect(ended).toHaveLength(1);
  }, 120_000);

  it('asking for a person transfers the call with a SIP REFER, after saying so', async () => {
    const caller = randomNumber();
    const phone = await call(caller, [{ wait: true }, { say: wav('human.wav') }, { expectRefer: true }]);
    await diagnosed(phone, caller, async () => {
      const answered = await phone.waitFor('answered', 40_000);
      expect(answered).toBeDefined();
      expect(await phone.rtp.waitForTurn({ since: answered!.at, timeoutMs: 40_000 })).toBeDefined();
      phone.next(); // "I want to speak to a human"
      const said = await phone.waitFor('said', 20_000);
      expect(said).toBeDefined();
      const refer = await phone.waitFor('refer', 40_000);
      expect(refer, 'livekit-sip sent a REFER to the caller').toBeDefined();
      expect(refer!.headers['x-refer-to']).toContain('+15550999@127.0.0.1:5070');
      // "Let me connect you with a member of our team" was played before the REFER.
      const announced = phone.rtp.speechPackets(said!.at).filter((p) => p.at < refer!.at);
      expect(announced.length * 20, 'ms of agent speech before the REFER').toBeGreaterThan(1000);
      measured.caller_end_to_refer_ms = refer!.at - said!.at;
      // After the NOTIFY (200), the bridge hangs up the transferred leg.
      expect(await phone.waitFor('bye', 20_000)).toBeDefined();
      expect(await phone.exited).toBe(0);
    });

    const row = await finalizedCall(stack.db, 'caller_number_hash = $1', [pii.hash(caller)]);
    expect(row.status).toBe('COMPLETED');
    expect(row.end_reason).toBe('transferred');
    expect(row.final_state).toBe('handoff');
    const events = await poll(async () => {
      const e = await callEvents(stack.db, row.id);
      return e.some((x) => x.event_type === 'transferred') ? e : undefined;
    }, 'a transferred call event');
    const transferred = events.find((e) => e.event_type === 'transferred')!;
    expect(transferred.source).toBe('telephony');
    expect(transferred.event_data).toMatchObject({ target: TRANSFER_TO });
    expect(events.filter((s) => ['completed', 'failed', 'timeout'].includes(s.event_type))).toHaveLength(1);
    // The bridge hanging up after the transfer is not the caller hanging up.
    expect(events.filter((s) => s.event_type === 'hangup')).toHaveLength(0);
  }, 150_000);

  it("tells the caller politely when the number's route names a flow that cannot run, and records why", async () => {
    // As if the flow was removed after the route was added (`route add` refuses unknown flows).
    await stack.db.pool.query(
      "INSERT INTO phone_routes (organization_id, number, flow, settings) VALUES ('00000000-0000-0000-0000-000000000001', $1, 'retired-flow', '{}')",
      [stack.number],
    );
    const caller = randomNumber();
    try {
      const phone = await call(caller, [{ expectBye: true }]);
      await diagnosed(phone, caller, async () => {
        const answered = await phone.waitFor('answered', 40_000);
        expect(answered).toBeDefined();
        const spoken = await phone.rtp.waitForTurn({ since: answered!.at, timeoutMs: 40_000 });
        expect(spoken, 'the caller heard the apology').toBeDefined();
        expect(spoken!.end - spoken!.start).toBeGreaterThan(2000);
        expect(await phone.waitFor('bye', 30_000), 'the agent hung up after it').toBeDefined();
        expect(await phone.exited).toBe(0);
      });
      const row = await finalizedCall(stack.db, 'caller_number_hash = $1', [pii.hash(caller)]);
      expect(row.end_reason).toBe('route_invalid');
      const turns = await stack.db.pool.query(
        'SELECT text FROM conversation_turns WHERE conversation_id = $1',
        [row.id],
      );
      expect(turns.rows.map((t) => t.text)).toContain(UNAVAILABLE_MESSAGE);
      const errors = await poll(async () => {
        const r = await stack.db.pool.query(
          'SELECT error_type, error_message FROM error_logs WHERE conversation_id = $1',
          [row.id],
        );
        return r.rows.length ? r.rows : undefined;
      }, 'the route error');
      expect(errors).toEqual([{ error_type: 'route_invalid', error_message: 'unknown flow "retired-flow"' }]);
    } finally {
      await stack.db.pool.query('DELETE FROM phone_routes WHERE number = $1', [stack.number]);
    }
  }, 120_000);
});
