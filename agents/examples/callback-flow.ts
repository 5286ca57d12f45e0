/** The example of agents/README.md (kept identical; test/unit/conversation/readme-example.test.ts runs it). */
import { z } from 'zod';
import { dateExtractor, defineFlow, nameExtractor, slot, speakDate } from '../../src/conversation/index.js';

export function createCallbackFlow(deps: { save(name: string, day: string): Promise<void> }) {
  return defineFlow({
    name: 'callback',
    description: 'Takes a callback request.',
    timeZone: 'America/New_York',
    slots: {
      name: slot({
        schema: z.string().min(2), // shape of a valid value (and the LLM tool schema)
        extract: nameExtractor, // one or more rule-based extractors
        description: "the caller's name",
        prompt: 'Who should we call back?',
        ack: 'Thanks, {name}.', // {slot} = the slot's spoken form
      }),
      day: slot({
        schema: z.string(),
        extract: dateExtractor,
        description: 'day for the callback, YYYY-MM-DD',
        prompt: 'Which day suits you?',
        check: (v, c) => (v < c.today ? 'That day has passed.' : null), // spoken refusal reason
        speak: speakDate,
      }),
    },
    accepts: ['name', 'day'], // taken in any state, even when not asked
    intents: { human: 'transfer', cancel: 'bye' },
    dtmfIntents: { '0': 'human' },
    fallback: 'failed', // too many failures (terminal)
    noInput: 'bye', // too many silences (terminal)
    initial: 'ask',
    states: {
      ask: { collect: ['name', 'day'], next: 'confirm' },
      confirm: { prompt: 'Call {name} on {day}?', confirm: { yes: 'save', no: 'ask' } },
      save: {
        run: async (c) => {
          await deps.save(c.slots.name!, c.slots.day!);
          return { goto: 'done', say: 'Done.' };
        },
      },
      done: { prompt: 'Goodbye.', terminal: { action: 'end_call', reason: 'completed' } },
      bye: { prompt: 'Bye.', terminal: { action: 'end_call', reason: 'caller_cancelled' } },
      transfer: { prompt: 'Transferring you.', terminal: { action: 'handoff', reason: 'caller_request' } },
      failed: { prompt: 'Sorry, please call back.', terminal: { action: 'end_call', reason: 'fallback' } },
    },
  });
}
