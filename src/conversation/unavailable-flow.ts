import { z } from 'zod';
import { defineFlow } from './flow.js';
import { type AnyFlowPackage, defineFlowPackage } from './flow-package.js';

/** What a caller hears when their number's route cannot run (an unknown flow, bad settings). */
export const UNAVAILABLE_MESSAGE =
  'Sorry, this number cannot take calls right now. Please try again later. Goodbye.';

/**
 * The platform's own one-line flow for a call whose route names a flow that cannot run: the
 * caller is told politely and the call ends with reason `route_invalid` (the worker records
 * why in the call's errors). No business, no slots: it names no domain.
 */
export const unavailableFlowPackage: AnyFlowPackage = defineFlowPackage({
  name: 'unavailable',
  description: 'Tells the caller this number cannot take calls now, and hangs up.',
  settings: z.object({}),
  resources: { open: () => ({}), close: () => {} },
  createFlow: () =>
    defineFlow({
      name: 'unavailable',
      description: 'the number cannot take calls',
      slots: {},
      initial: 'sorry',
      fallback: 'sorry',
      noInput: 'sorry',
      states: {
        sorry: { prompt: UNAVAILABLE_MESSAGE, terminal: { action: 'end_call', reason: 'route_invalid' } },
      },
    }),
});
