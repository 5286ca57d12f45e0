import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConversationEngine,
  dateExtractor,
  defineFlow,
  FlowDefinitionError,
  type LlmAssist,
  nameExtractor,
  phoneExtractor,
  RecordingObserver,
  slot,
  speakDate,
  speakPhone,
  toE164,
  toolsFor,
} from '../../../src/conversation/index.js';
import { NOW, TZ } from './helpers.js';

/** A callback-request flow: small, but uses every kind of state. */
function callbackFlow(opts: { failStep?: boolean } = {}) {
  return defineFlow({
    name: 'callback',
    description: 'Takes a callback request.',
    timeZone: TZ,
    slots: {
      name: slot({
        schema: z.string().min(2),
        extract: nameExtractor,
        description: 'caller name',
        prompt: 'Who should we call back?',
        ack: 'Thanks, {name}.',
      }),
      phone: slot({
        label: 'phone number',
        schema: z.string().regex(/^\+\d{10,15}$/),
        extract: phoneExtractor('US'),
        description: 'number to call',
        prompt: 'What number should we call?',
        reprompt: 'Please say the ten digit number.',
        speak: speakPhone,
        dtmf: { complete: (d) => d.length >= 10, parse: (d) => toE164(d, 'US') ?? d },
      }),
      day: slot({
        schema: z.string(),
        extract: dateExtractor,
        description: 'day',
        prompt: 'Which day?',
        check: (v, c) => (v < c.today ? 'That day has passed.' : null),
        speak: speakDate,
      }),
    },
    data: () => ({ saved: 0 }),
    accepts: ['name', 'phone', 'day'],
    intents: { human: 'transfer', cancel: 'bye' },
    dtmfIntents: { '0': 'human' },
    fallback: 'failed',
    noInput: 'silent',
    initial: 'menu',
    states: {
      menu: {
        prompt: 'Press 1 or say callback.',
        collect: ['name'],
        dtmf: { '1': 'ask_name' },
        next: 'ask_phone',
      },
      ask_name: { collect: ['name'], next: 'ask_phone' },
      ask_phone: { collect: ['phone', 'day'], next: 'confirm' },
      confirm: {
        prompt: 'Call {name} at {phone} on {day}?',
        confirm: { yes: 'save', no: 'ask_phone' },
        onTimeout: 'bye',
      },
      save: {
        run: (c) => {
          if (opts.failStep) throw new Error('database down');
          c.data.saved++;
          return { goto: 'done', say: 'Saved.', actions: [{ type: 'send_dtmf', digits: '#' }] };
        },
      },
      done: { prompt: 'Goodbye.', terminal: { action: 'end_call', reason: 'completed' } },
      bye: { prompt: 'Bye.', terminal: { action: 'end_call', reason: 'caller_cancelled' } },
      transfer: { prompt: 'Transferring.', terminal: { action: 'handoff', reason: 'caller_request' } },
      failed: { prompt: 'Sorry.', terminal: { action: 'end_call', reason: 'fallback' } },
      silent: { prompt: 'No one there.', terminal: { action: 'end_call', reason: 'no_input' } },
    },
  });
}

function engineFor(
  flow = callbackFlow(),
  extra: Partial<ConstructorParameters<typeof ConversationEngine>[1]> = {},
) {
  const rec = new RecordingObserver();
  let t = 0;
  const engine = new ConversationEngine(flow, {
    now: () => NOW,
    observer: rec,
    monotonic: () => (t += 5),
    random: () => 0.5,
    ...extra,
  });
  return { engine, rec };
}

describe('defineFlow', () => {
  it('refuses unknown targets, non-terminal fallbacks, mixed state kinds and unknown slots', () => {
    expect(() =>
      defineFlow({
        name: 'bad',
        description: '',
        slots: {},
        initial: 'a',
        fallback: 'a',
        noInput: 'nowhere' as never,
        states: {
          a: { next: 'b', collect: ['ghost' as never] },
          b: { run: () => ({ goto: 'a' }), terminal: { action: 'end_call', reason: 'x' } },
        },
      }),
    ).toThrow(FlowDefinitionError);
    try {
      defineFlow({
        name: 'bad',
        description: '',
        slots: {},
        initial: 'a',
        fallback: 'a',
        noInput: 'a',
        states: { a: { next: 'a' } },
      });
    } catch (e) {
      expect(String(e)).toMatch(/fallback state "a" must be terminal/);
    }
  });

  it('catches a misspelled target at compile time (and at load time)', () => {
    const define = () =>
      defineFlow({
        name: 'typed',
        description: '',
        slots: {},
        initial: 'a',
        fallback: 'end',
        noInput: 'end',
        states: {
          // @ts-expect-error 'ende' is not a state of this flow
          a: { next: 'ende' },
          end: { terminal: { action: 'end_call', reason: 'x' } },
        },
      });
    expect(define).toThrow(/unknown state "ende"/);
  });
});

describe('ConversationEngine', () => {
  it('greets, fills slots, confirms, runs a step and ends, recording everything', async () => {
    const { engine, rec } = engineFor();
    expect((await engine.start()).text).toBe('Press 1 or say callback.');
    expect((await engine.handleUserText('my name is ada lovelace', { confidence: 0.8 })).text).toBe(
      'Thanks, Ada Lovelace. What number should we call?',
    );
    expect((await engine.handleUserText('four one five five five five two six seven one')).text).toBe(
      'Which day?',
    );
    const confirm = await engine.handleUserText('tomorrow');
    expect(confirm.text).toBe('Call Ada Lovelace at 4 1 5, 5 5 5, 2 6 7 1 on Thursday, March 6th?');
    const done = await engine.handleUserText('yes');
    expect(done).toEqual({
      text: 'Saved. Goodbye.',
      actions: [
        { type: 'send_dtmf', digits: '#' },
        { type: 'end_call', reason: 'completed' },
      ],
      state: 'done',
      terminal: true,
    });
    expect(rec.transitions.map((t) => [t.from_state, t.to_state, t.trigger_type])).toEqual([
      [null, 'menu', 'system'],
      ['menu', 'ask_phone', 'user_input'],
      ['ask_phone', 'confirm', 'user_input'],
      ['confirm', 'save', 'user_input'],
      ['save', 'done', 'system'],
    ]);
    expect(rec.transitions.every((t) => Number.isInteger(t.latency_ms) && t.latency_ms >= 0)).toBe(true);
    expect(rec.transitions[3]!.trigger_data).toMatchObject({ answer: 'yes', input: 'yes' });
    expect(rec.slots.map((s) => [s.slot_name, s.slot_value, s.method, s.validated])).toEqual([
      ['name', 'Ada Lovelace', 'regex', true],
      ['phone', '+14155552671', 'regex', true],
      ['day', '2025-03-06', 'nlp', true],
    ]);
    // STT confidence 0.8 folds into the slot's confidence.
    expect(rec.slots[0]!.confidence).toBeCloseTo(0.8 * 0.95, 2);
    expect(rec.turns.filter((t) => t.role === 'user').map((t) => t.state_at_turn)).toEqual([
      'menu',
      'ask_phone',
      'ask_phone',
      'confirm',
    ]);
    // Inputs after the end are ignored.
    expect(await engine.handleUserText('hello?')).toMatchObject({ text: '', actions: [], state: 'done' });
  });

  it('refuses invalid values with the reason, re-prompts, then falls back after maxRetries', async () => {
    const { engine, rec } = engineFor();
    await engine.start();
    await engine.handleUserText('my name is bob');
    expect((await engine.handleUserText('five five five one two three four')).text).toBe(
      "Sorry, that doesn't sound like a valid phone number. What number should we call?",
    );
    expect(rec.slots.at(-1)).toMatchObject({ slot_name: 'phone', validated: false });
    expect((await engine.handleUserText('purple')).text).toBe(
      "Sorry, I didn't catch that. Please say the ten digit number.",
    );
    const last = await engine.handleUserText('green');
    expect(last).toMatchObject({
      text: 'Sorry.',
      state: 'failed',
      actions: [{ type: 'end_call', reason: 'fallback' }],
    });
    expect(rec.transitions.at(-1)).toMatchObject({
      trigger_type: 'user_input',
      trigger_data: { reason: 'max_retries' },
    });
  });

  it('takes slots out of order and corrections at the confirmation', async () => {
    const { engine } = engineFor();
    await engine.start();
    const r = await engine.handleUserText(
      'this is sam jones, call me friday on four one five five five five two six seven one',
    );
    expect(r.state).toBe('confirm');
    expect(engine.slots).toMatchObject({ name: 'Sam Jones', day: '2025-03-07', phone: '+14155552671' });
    const fixed = await engine.handleUserText('no, make it monday');
    expect(fixed.text).toBe(
      "Okay, I've changed that. Call Sam Jones at 4 1 5, 5 5 5, 2 6 7 1 on Monday, March 10th?",
    );
    expect(engine.transitions.at(-1)).toMatchObject({
      from_state: 'confirm',
      to_state: 'confirm',
      trigger_data: { correction: ['day'] },
    });
  });

  it('silence: re-prompts, follows onTimeout, and ends after maxTimeouts', async () => {
    const { engine } = engineFor();
    await engine.start();
    expect((await engine.handleTimeout()).text).toBe('Are you still there? Press 1 or say callback.');
    expect((await engine.handleTimeout()).text).toBe('Are you still there? Press 1 or say callback.');
    const r = await engine.handleTimeout();
    expect(r).toMatchObject({ state: 'silent', actions: [{ type: 'end_call', reason: 'no_input' }] });
    expect(engine.transitions.at(-1)).toMatchObject({
      trigger_type: 'timeout',
      trigger_data: { timeouts: 3 },
    });
  });

  it('speech resets the silence count', async () => {
    const { engine } = engineFor();
    await engine.start();
    await engine.handleTimeout();
    await engine.handleTimeout();
    await engine.handleUserText('my name is bob');
    await engine.handleTimeout();
    expect(engine.isTerminal).toBe(false);
  });

  it('keypad: menus, intents, buffered digits, # and flush on silence', async () => {
    const { engine, rec } = engineFor();
    await engine.start();
    expect((await engine.handleDtmf('1')).state).toBe('ask_name');
    expect(engine.transitions.at(-1)).toMatchObject({ trigger_type: 'dtmf', trigger_data: { digits: '1' } });
    await engine.handleUserText('bob smith');
    expect((await engine.handleDtmf('41555')).text).toBe(''); // still typing
    const r = await engine.handleDtmf('52671');
    expect(r.text).toBe('Which day?');
    expect(rec.slots.at(-1)).toMatchObject({
      slot_name: 'phone',
      method: 'dtmf',
      confidence: 1,
      validated: true,
    });

    const other = engineFor().engine;
    await other.start();
    await other.handleUserText('bob smith');
    await other.handleDtmf('555#');
    expect(other.slotHistory.at(-1)).toMatchObject({
      slot_name: 'phone',
      slot_value: '555',
      validated: false,
    });
    await other.handleDtmf('41555526');
    expect((await other.handleTimeout()).text).toMatch(/valid phone number/);

    const third = engineFor().engine;
    await third.start();
    expect((await third.handleDtmf('0')).state).toBe('transfer');
  });

  it('intents: human hands off from anywhere; cancel ends; repeat repeats without a retry', async () => {
    const { engine } = engineFor();
    await engine.start();
    await engine.handleUserText('my name is bob');
    expect((await engine.handleUserText('can you repeat that')).text).toBe('What number should we call?');
    const r = await engine.handleUserText('i want to speak to a representative');
    expect(r).toMatchObject({ state: 'transfer', actions: [{ type: 'handoff', reason: 'caller_request' }] });
    expect(engine.transitions.at(-1)).toMatchObject({ trigger_type: 'handoff' });

    const other = engineFor().engine;
    await other.start();
    expect((await other.handleUserText('never mind, bye')).state).toBe('bye');
  });

  it('a failing step goes to the error state with an error transition', async () => {
    const { engine, rec } = engineFor(callbackFlow({ failStep: true }));
    await engine.start();
    await engine.handleUserText('my name is bob, four one five five five five two six seven one, tomorrow');
    const r = await engine.handleUserText('yes');
    expect(r.state).toBe('failed');
    expect(rec.transitions.at(-1)).toMatchObject({
      from_state: 'save',
      to_state: 'failed',
      trigger_type: 'error',
      trigger_data: { error: 'database down' },
    });
    expect(rec.errors[0]).toMatchObject({ where: 'step', message: 'database down' });
  });

  it('is deterministic for a given clock and inputs', async () => {
    const run = async () => {
      const { engine, rec } = engineFor();
      const texts = [(await engine.start()).text];
      for (const s of ['bob', 'my name is bob', '4155552671', 'friday', 'no', 'saturday', 'yes']) {
        texts.push((await engine.handleUserText(s)).text);
      }
      return { texts, transitions: rec.transitions, slots: rec.slots };
    };
    expect(await run()).toEqual(await run());
  });

  it('queues inputs fired without awaiting', async () => {
    const { engine } = engineFor();
    const replies = await Promise.all([
      engine.start(),
      engine.handleUserText('my name is bob'),
      engine.handleUserText('4155552671'),
      engine.handleUserText('tomorrow'),
    ]);
    expect(replies.map((r) => r.state)).toEqual(['menu', 'ask_phone', 'ask_phone', 'confirm']);
  });

  it('an input before start() starts the call without the greeting', async () => {
    const { engine } = engineFor();
    expect((await engine.handleUserText('my name is bob')).text).toBe(
      'Thanks, Bob. What number should we call?',
    );
    expect(engine.transitions[0]).toMatchObject({ from_state: null, to_state: 'menu' });
  });
});

describe('LLM assist', () => {
  it('exposes the state slots as tools with JSON schema from zod', () => {
    const tools = toolsFor(callbackFlow(), ['phone'], { yesNo: true });
    expect(tools.map((t) => t.name)).toEqual(['set_phone', 'answer_yes_no', 'caller_intent']);
    expect(tools[0]!.parameters).toMatchObject({
      type: 'object',
      properties: { value: { type: 'string', pattern: '^\\+\\d{10,15}$' } },
      required: ['value'],
    });
  });

  it('is asked only when rules fail, and its proposals are validated before the state changes', async () => {
    const calls: string[] = [];
    const llm: LlmAssist = {
      async proposeSlots(req) {
        calls.push(req.userText);
        expect(req.tools.map((t) => t.name)).toContain('set_name');
        if (req.userText.includes('famous')) return [{ slot: 'name', value: 'A' }]; // too short: refused
        return [{ slot: 'set_name', value: 'Grace Hopper', confidence: 0.7 }];
      },
      async phrase(reply) {
        return reply.replace('Thanks', 'Many thanks');
      },
    };
    const { engine, rec } = engineFor(callbackFlow(), { llm });
    await engine.start();
    expect((await engine.handleUserText('the famous admiral')).state).toBe('menu');
    expect(rec.slots.at(-1)).toMatchObject({ method: 'llm', validated: false });
    const r = await engine.handleUserText('the one who found the moth');
    expect(r.text).toBe('Many thanks, Grace Hopper. What number should we call?');
    expect(rec.slots.at(-1)).toMatchObject({
      slot_name: 'name',
      method: 'llm',
      confidence: 0.7,
      validated: true,
    });
    await engine.handleUserText('my number is four one five five five five two six seven one'); // rules suffice
    expect(calls).toEqual(['the famous admiral', 'the one who found the moth']);
  });

  it('a failing or slow LLM is ignored', async () => {
    const failing: LlmAssist = {
      proposeSlots: () => Promise.reject(new Error('rate limited')),
      phrase: () => new Promise(() => {}),
    };
    const { engine, rec } = engineFor(callbackFlow(), { llm: failing, llmTimeoutMs: 20 });
    await engine.start();
    const r = await engine.handleUserText('hmm');
    expect(r.text).toBe("Sorry, I didn't catch that. Press 1 or say callback.");
    expect(rec.errors.map((e) => e.where)).toEqual(['llm', 'llm', 'llm']);
  });
});
