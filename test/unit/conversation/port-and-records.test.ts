import { describe, expect, it } from 'vitest';
import { FakeBookingStore } from '../../../agents/appointment-booking/index.js';
import { flowNames, getFlowPackage } from '../../../agents/index.js';
import {
  domainLanguage,
  eventsObserver,
  parseFlowSettings,
  toConversationPort,
} from '../../../src/conversation/index.js';
import { MemoryEventSink, parseEvent } from '../../../src/events/index.js';
import type { ConversationPort } from '../../../src/pipeline/engine-port.js';
import { packageEngine } from '../../helpers/flows.js';
import { NOW, seededRandom } from './helpers.js';

const CALL_ID = '22222222-2222-4222-8222-222222222222';

describe('registry and pipeline port', () => {
  it('finds flow packages by name and builds their flows from settings and resources', () => {
    expect(flowNames).toContain('appointment-booking');
    const pkg = getFlowPackage('appointment-booking');
    expect(pkg.createFlow({ settings: {}, resources: { store: new FakeBookingStore() } }).name).toBe(
      'appointment-booking',
    );
    expect(() => getFlowPackage('nope')).toThrow(/unknown flow "nope"/);
    expect(() => pkg.createFlow({ settings: {}, resources: {} })).toThrow(/needs a BookingStore/);
  });

  it("refuses settings the flow's schema rejects, with the reason", () => {
    const pkg = getFlowPackage('appointment-booking');
    expect(parseFlowSettings(pkg, { businessName: 'Elm Dental' })).toEqual({
      ok: true,
      settings: { businessName: 'Elm Dental' },
    });
    const bad = parseFlowSettings(pkg, { timeZone: 'Mars/Base', colour: 'red' });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.reason).toMatch(
      /settings for flow appointment-booking rejected: .*timeZone: unknown IANA time zone/,
    );
    expect(!bad.ok && bad.reason).toMatch(/colour/);
  });

  it("fits the pipeline's ConversationPort and maps actions (handoff → transfer, end_call → hangup)", async () => {
    const engine = packageEngine(
      'appointment-booking',
      { store: new FakeBookingStore() },
      { now: () => NOW },
    );
    const port: ConversationPort = toConversationPort(engine);
    expect((await port.start()).text).toMatch(/^Thank you for calling/);
    await port.onUserText('book', { source: 'speech', turnIndex: 0, confidence: 0.9 });
    const r = await port.onUserText('operator', { source: 'speech', turnIndex: 1 });
    expect(r.actions).toEqual([{ type: 'transfer', reason: 'caller_request' }]);
    expect(port.isTerminal).toBe(true);
    expect(port.state).toBe('handoff');
    expect(port.snapshot?.()).toMatchObject({
      flow: 'appointment-booking',
      slots: { intent: 'book' },
      records: [],
      transitions: [
        { from: null, to: 'greeting', trigger: 'system' },
        { from: 'greeting', to: 'collect_name', trigger: 'user_input' },
        { from: 'collect_name', to: 'handoff', trigger: 'handoff' },
      ],
    });

    const other = toConversationPort(
      packageEngine('appointment-booking', { store: new FakeBookingStore() }, { now: () => NOW }),
    );
    await other.start();
    for (let i = 0; i < 3; i++) await other.onTimeout();
    expect(other.isTerminal).toBe(true);
    expect((await other.onDtmf('1')).actions).toEqual([]);
  });
});

describe('eventsObserver', () => {
  it('turns a whole call into valid call events (transitions, slots, appointment, feedback, turns)', async () => {
    const sink = new MemoryEventSink();
    const engine = packageEngine(
      'appointment-booking',
      { store: new FakeBookingStore() },
      {
        now: () => NOW,
        random: seededRandom(5),
        callId: CALL_ID,
        observer: eventsObserver({ sink, callId: CALL_ID, flow: 'appointment-booking', recordTurns: true }),
      },
    );
    await engine.start();
    for (const s of [
      'book',
      'my name is john smith',
      'checkup',
      'tomorrow at ten',
      '4155552671',
      'yes',
      'five',
    ]) {
      await engine.handleUserText(s, { confidence: 0.9 });
    }
    for (const e of sink.events)
      expect(parseEvent(JSON.parse(JSON.stringify(e)))).toMatchObject({ ok: true });
    const count = (t: string) => sink.events.filter((e) => e.type === t).length;
    expect(count('transition')).toBe(engine.transitions.length);
    expect(count('slot')).toBe(engine.slotHistory.length);
    const records = sink.ofType('record');
    expect(records.map((e) => e.payload.type)).toEqual(['appointment', 'feedback']);
    expect(records.every((e) => e.payload.flow === 'appointment-booking')).toBe(true);
    expect(count('turn')).toBe(15); // greeting + 7 × (caller, agent)
    const slot = sink.ofType('slot').find((e) => e.payload.slot_name === 'name')!;
    const turn = sink.ofType('turn').find((e) => e.payload.turn_id === slot.payload.turn_id)!;
    expect(turn.payload).toMatchObject({
      role: 'user',
      text: 'my name is john smith',
      state_at_turn: 'collect_name',
    });
    expect(records[0]!.payload).toMatchObject({
      record_id: engine.flowRecords[0]!.id,
      data: {
        appointment_date: '2025-03-06',
        appointment_time: '10:00',
        status: 'confirmed',
        metadata: { action: 'booked' },
      },
    });
    expect(records[1]!.payload.data).toMatchObject({ rating: 5, feedback_type: 'positive' });
  });
});

describe('domainLanguage', () => {
  it('lists what callers say in the flow, as lowercase words without digits', () => {
    const { phrases, words } = domainLanguage(
      getFlowPackage('appointment-booking').createFlow({
        settings: {},
        resources: { store: new FakeBookingStore() },
      }),
    );
    for (const p of phrases) expect(p).toMatch(/^[a-z']+( [a-z']+)*$/);
    for (const expected of [
      'yes',
      'no make it wednesday',
      'i want to speak to a human',
      'operator',
      'next tuesday',
      'the fifth of march',
      'three thirty p m',
      'my name is john smith',
      'a check up please',
      'never mind',
    ]) {
      expect(phrases).toContain(expected);
    }
    for (const w of [
      'twenty',
      'thirty',
      'saturday',
      'december',
      'smith',
      'garcia',
      'noon',
      'alpha',
      'representative',
    ]) {
      expect(words).toContain(w);
    }
    expect(new Set(words).size).toBe(words.length);
  });
});
