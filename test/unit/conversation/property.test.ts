import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAppointmentBookingFlow, FakeBookingStore } from '../../../agents/appointment-booking/index.js';
import {
  ConversationEngine,
  domainLanguage,
  RecordingObserver,
  slotDefs,
} from '../../../src/conversation/index.js';
import { NOW, seededRandom, TZ } from './helpers.js';

type Input = { kind: 'text'; text: string } | { kind: 'dtmf'; digits: string } | { kind: 'timeout' };

const TRIGGERS = new Set(['user_input', 'timeout', 'error', 'handoff', 'dtmf', 'system']);

function setup(failEvery = 0) {
  const store = new FakeBookingStore();
  store.seed({
    date: '2025-03-06',
    time: '10:00',
    confirmationCode: 'HJK234',
    userName: 'Bob Lee',
    type: 'checkup',
  });
  store.seed({ date: '2025-03-07', time: '14:00', confirmationCode: 'AF3KQ9' });
  const flow = createAppointmentBookingFlow({ store });
  const rec = new RecordingObserver();
  let calls = 0;
  if (failEvery) {
    // A flaky store: every n-th call throws.
    for (const m of ['takenTimes', 'book', 'findByCode', 'reschedule', 'cancel'] as const) {
      const original = store[m].bind(store) as (...a: unknown[]) => Promise<unknown>;
      (store as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => {
        if (++calls % failEvery === 0) return Promise.reject(new Error('flaky'));
        return original(...a);
      };
    }
  }
  const engine = new ConversationEngine(flow, {
    now: () => NOW,
    timeZone: TZ,
    random: seededRandom(3),
    observer: rec,
  });
  return { engine, rec, flow, store };
}

const phrases = domainLanguage(setup().flow).phrases;
const inputArb: fc.Arbitrary<Input> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...phrases).map((text) => ({ kind: 'text' as const, text })) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }).map((text) => ({ kind: 'text' as const, text })) },
  {
    weight: 1,
    arbitrary: fc
      .string({ unit: 'grapheme', maxLength: 20 })
      .map((text) => ({ kind: 'text' as const, text })),
  },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.constantFrom(...'0123456789*#'), { minLength: 1, maxLength: 12 })
      .map((d) => ({ kind: 'dtmf' as const, digits: d.join('') })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'timeout' as const }) },
);

async function feed(engine: ConversationEngine, input: Input) {
  if (input.kind === 'text') return engine.handleUserText(input.text);
  if (input.kind === 'dtmf') return engine.handleDtmf(input.digits);
  return engine.handleTimeout();
}

describe('engine properties (appointment-booking flow)', () => {
  it('no input sequence crashes it, and the records stay consistent', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(inputArb, { maxLength: 40 }),
        fc.integer({ min: 0, max: 4 }),
        async (inputs, flaky) => {
          const { engine, rec, flow } = setup(flaky ? flaky + 1 : 0);
          const states = new Set(Object.keys(flow.spec.states));
          await engine.start();
          for (const input of inputs) {
            const r = await feed(engine, input);
            expect(typeof r.text).toBe('string');
            expect(states.has(r.state)).toBe(true);
            for (const a of r.actions) expect(['handoff', 'end_call', 'send_dtmf']).toContain(a.type);
            if (r.terminal) expect(r.actions.length > 0 || r.text === '').toBe(true);
          }
          let prev: string | null = null;
          for (const t of rec.transitions) {
            expect(t.from_state).toBe(prev);
            expect(states.has(t.to_state)).toBe(true);
            expect(TRIGGERS.has(t.trigger_type)).toBe(true);
            expect(Number.isInteger(t.latency_ms) && t.latency_ms >= 0).toBe(true);
            prev = t.to_state;
          }
          const defs = slotDefs(flow);
          for (const s of rec.slots) {
            expect(s.confidence).toBeGreaterThanOrEqual(0);
            expect(s.confidence).toBeLessThanOrEqual(1);
            if (s.validated) expect(defs[s.slot_name]!.schema.safeParse(s.value).success).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it(`every call terminates within maxTurns inputs, and stays terminated`, async () => {
    const { flow } = setup();
    const bound = flow.limits.maxTurns + 1;
    await fc.assert(
      fc.asyncProperty(fc.array(inputArb, { minLength: bound, maxLength: bound + 5 }), async (inputs) => {
        const { engine } = setup();
        await engine.start();
        let endedAt = -1;
        for (const [i, input] of inputs.entries()) {
          const r = await feed(engine, input);
          if (endedAt >= 0) expect(r).toMatchObject({ text: '', actions: [], terminal: true });
          else if (r.terminal) endedAt = i;
        }
        expect(engine.isTerminal).toBe(true);
        expect(endedAt).toBeLessThan(bound);
      }),
      { numRuns: 60 },
    );
  });

  it('unintelligible input ends in the fallback within maxRetries + 1 turns; silence within maxTimeouts', async () => {
    const { flow } = setup();
    const garbage = fc.stringMatching(/^[zqx]{3,12}( [zqx]{3,12}){0,3}$/);
    await fc.assert(
      fc.asyncProperty(fc.array(garbage, { minLength: 10, maxLength: 10 }), async (texts) => {
        const { engine } = setup();
        await engine.start();
        let n = 0;
        while (!engine.isTerminal) await engine.handleUserText(texts[n++]!);
        expect(engine.state).toBe('fallback');
        expect(n).toBe(flow.limits.maxRetries + 1);
      }),
      { numRuns: 50 },
    );
    const { engine } = setup();
    await engine.start();
    for (let i = 0; i < flow.limits.maxTimeouts; i++) await engine.handleTimeout();
    expect(engine.state).toBe('no_input');
  });

  it('is deterministic: the same inputs give the same replies and records', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(inputArb, { maxLength: 25 }), async (inputs) => {
        const run = async () => {
          const { engine, rec } = setup();
          const out = [(await engine.start()).text];
          for (const input of inputs) out.push(JSON.stringify(await feed(engine, input)));
          return { out, slots: rec.slots, transitions: rec.transitions.map(({ latency_ms: _l, ...t }) => t) };
        };
        expect(await run()).toEqual(await run());
      }),
      { numRuns: 80 },
    );
  });
});
