import { expect, it } from 'vitest';
import { createCallbackFlow } from '../../../agents/examples/callback-flow.js';
import { ConversationEngine } from '../../../src/conversation/index.js';

it('the README example flow runs', async () => {
  const saved: string[] = [];
  const engine = new ConversationEngine(
    createCallbackFlow({ save: async (name, day) => void saved.push(`${name} ${day}`) }),
    { now: () => new Date('2025-03-05T15:00:00Z') },
  );
  expect((await engine.start()).text).toBe('Who should we call back?');
  expect((await engine.handleUserText('this is ada, friday please')).text).toBe(
    'Thanks, Ada. Call Ada on Friday, March 7th?',
  );
  expect(await engine.handleUserText('yes')).toMatchObject({ text: 'Done. Goodbye.', terminal: true });
  expect(saved).toEqual(['Ada 2025-03-07']);
});
