import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConversationEngine,
  defineFlow,
  domainLanguage,
  found,
  slot,
  toolsFor,
} from '../../../src/conversation/index.js';

/** A flow with its own intent: "stop calling me" leads to an opt-out from any state. */
function optOutFlow() {
  return defineFlow({
    name: 'reminder-test',
    description: 'asks for a date',
    slots: {
      day: slot<string>({
        schema: z.string(),
        extract: (u, ctx) => (ctx.asked && /\bmonday\b/.test(u.text) ? found('monday', 1, 'regex') : null),
        description: 'a day',
        prompt: 'Which day will you pay?',
      }),
    },
    customIntents: {
      stop_calling: {
        patterns: [/\bstop calling\b/, /\b(do not|don't) call\b/, /\btake me off\b/],
        phrases: ['stop calling me', "don't call me again", 'take me off your list'],
        description: 'no more calls',
      },
    },
    intents: { stop_calling: 'opted_out', cancel: 'bye' },
    fallback: 'bye',
    noInput: 'bye',
    initial: 'ask',
    states: {
      ask: { collect: ['day'], next: 'done' },
      done: { prompt: 'Thanks.', terminal: { action: 'end_call', reason: 'completed' } },
      opted_out: {
        prompt: 'We will not call you again.',
        terminal: { action: 'end_call', reason: 'opted_out' },
      },
      bye: { prompt: 'Bye.', terminal: { action: 'end_call', reason: 'cancelled' } },
    },
  });
}

async function say(text: string) {
  const engine = new ConversationEngine(optOutFlow(), { now: () => new Date('2026-12-07T10:00:00Z') });
  await engine.start();
  return { reply: await engine.handleUserText(text), engine };
}

describe("a flow's own intents", () => {
  it('acts on "stop calling me" in any state, before the built-in cancel its words contain', async () => {
    const { reply, engine } = await say('please stop calling me');
    expect(engine.state).toBe('opted_out');
    expect(reply.actions).toEqual([{ type: 'end_call', reason: 'opted_out' }]);
    expect((await say("don't call me again")).engine.state).toBe('opted_out');
    // A bare "stop" is still the built-in cancel.
    expect((await say('stop')).engine.state).toBe('bye');
    // And an answer is an answer.
    expect((await say('monday')).engine.state).toBe('done');
  });

  it("hands the intent's phrases to the recognizer and the LLM's intent tool", () => {
    const flow = optOutFlow();
    expect(domainLanguage(flow).phrases).toContain('take me off your list');
    expect(new ConversationEngine(flow).expectation().intentPhrases).toContain('stop calling me');
    const intentTool = toolsFor(flow, ['day']).find((tool) => tool.name === 'caller_intent')!;
    expect(JSON.stringify(intentTool.parameters)).toContain('stop_calling');
    expect(intentTool.description).toContain('no more calls (stop_calling)');
  });

  it('refuses intents nobody declared and own intents that shadow a built-in', () => {
    const base = optOutFlow().spec;
    expect(() => defineFlow({ ...base, intents: { stop_calls: 'bye' } as never })).toThrow(
      /intents.stop_calls: unknown intent/,
    );
    expect(() =>
      defineFlow({ ...base, customIntents: { cancel: { patterns: [/x/], phrases: [] } } }),
    ).toThrow(/customIntents.cancel: a built-in intent/);
  });
});
