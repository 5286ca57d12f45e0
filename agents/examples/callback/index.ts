import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { defineFlowPackage } from '../../../src/conversation/index.js';
import { createCallbackRequestFlow } from './flow.js';
import { callbackRecords } from './records.js';

/** What a route may set for the callback example. */
export const callbackSettings = z.strictObject({
  businessName: z.string().min(1).max(100).default('Elm Street Garage'),
  timeZone: z.string().default('America/New_York'),
});

const requests = z.strictObject({ callback_requested: z.boolean() });

/** The example flow package of agents/README.md: registered like any other. */
export const callbackRequest = defineFlowPackage<z.infer<typeof callbackSettings>, Record<string, never>>({
  name: 'callback-request',
  description: 'Takes a callback request (who, which day) and records it.',
  settings: callbackSettings,
  // Nothing to open: the flow's outcome is a record, written by the persister.
  resources: { open: () => ({}), close: () => {} },
  createFlow: ({ settings }) => createCallbackRequestFlow(settings),
  migrations: fileURLToPath(new URL('./migrations/', import.meta.url)),
  records: callbackRecords,
  scripts: {
    dir: fileURLToPath(new URL('./calls/', import.meta.url)),
    setup: z.undefined(),
    offline: () => ({}),
    expectations: requests,
    check(raw, records) {
      const want = requests.parse(raw).callback_requested;
      const got = records.some((r) => r.type === 'callback_request');
      return got === want ? [] : [`callback_requested ${got}, expected ${want}`];
    },
  },
  archive: [{ key: 'callback_requests', table: 'callback_requests', orderBy: 't.created_at' }],
  personalData: [{ table: 'callback_requests', conversationColumn: 'conversation_id', erase: 'delete' }],
});
