import { z } from 'zod';
import {
  dateExtractor,
  defineFlow,
  type Flow,
  nameExtractor,
  slot,
  speakDate,
} from '../../../src/conversation/index.js';

/**
 * The smallest complete flow package: asks who to call back and on which day, confirms, and
 * records a `callback_request` (its own table, its own migration). No store: the record is
 * the whole outcome, written by the persister.
 */
export function createCallbackRequestFlow(settings: { businessName: string; timeZone: string }): Flow {
  return defineFlow({
    name: 'callback-request',
    description: `Takes callback requests for ${settings.businessName}.`,
    timeZone: settings.timeZone,
    slots: {
      name: slot({
        schema: z.string().min(2).max(100),
        extract: nameExtractor,
        expects: 'name',
        description: "the caller's name",
        prompt: 'Who should we call back?',
        ack: 'Thanks, {name}.',
        samples: ['my name is john smith', 'this is mary jones'],
      }),
      day: slot({
        schema: z.string(),
        extract: dateExtractor,
        expects: 'date',
        description: 'day for the callback, YYYY-MM-DD',
        prompt: 'Which day suits you?',
        check: (v, c) => (v < c.today ? 'That day has passed.' : null),
        speak: speakDate,
      }),
    },
    accepts: ['name', 'day'],
    intents: { human: 'transfer', cancel: 'bye' },
    dtmfIntents: { '0': 'human' },
    fallback: 'failed',
    noInput: 'bye',
    initial: 'ask',
    states: {
      ask: {
        say: `Thank you for calling ${settings.businessName}.`,
        collect: ['name', 'day'],
        next: 'confirm',
      },
      confirm: { prompt: 'Call {name} on {day}?', confirm: { yes: 'save', no: 'ask' }, onChange: 'confirm' },
      save: {
        run: (c) => ({
          goto: 'done',
          say: 'Done.',
          records: [
            { type: 'callback_request', data: { caller_name: c.slots.name!, callback_day: c.slots.day! } },
          ],
        }),
      },
      done: {
        prompt: 'We will call you back. Goodbye.',
        terminal: { action: 'end_call', reason: 'completed' },
      },
      bye: { prompt: 'Bye.', terminal: { action: 'end_call', reason: 'caller_cancelled' } },
      transfer: { prompt: 'Transferring you.', terminal: { action: 'handoff', reason: 'caller_request' } },
      failed: { prompt: 'Sorry, please call back.', terminal: { action: 'end_call', reason: 'fallback' } },
    },
  });
}
