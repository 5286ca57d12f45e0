import { ConversationEngine, type EngineOptions, type Flow } from '../src/conversation/index.js';
import { type AppointmentBookingOptions, createAppointmentBookingFlow } from './appointment-booking/index.js';

/**
 * Every flow the worker can run, by name. A flow factory takes the flow's dependencies
 * (stores, business settings) and returns a validated Flow; hosts pick one by name from
 * configuration (e.g. the dispatch metadata or `--flow`).
 */

export interface FlowDependencies {
  'appointment-booking': AppointmentBookingOptions;
}

export type FlowName = keyof FlowDependencies;

export const flows: { [K in FlowName]: (deps: FlowDependencies[K]) => Flow } = {
  'appointment-booking': createAppointmentBookingFlow,
};

export const flowNames = Object.keys(flows) as FlowName[];

export function isFlowName(name: string): name is FlowName {
  return Object.hasOwn(flows, name);
}

export function getFlow<K extends FlowName>(name: K, deps: FlowDependencies[K]): Flow {
  if (!isFlowName(name)) throw new Error(`unknown flow "${name}" (known: ${flowNames.join(', ')})`);
  return flows[name](deps);
}

/** Builds the flow and an engine for one call. */
export function createEngineForFlow<K extends FlowName>(
  name: K,
  deps: FlowDependencies[K],
  options: EngineOptions = {},
): ConversationEngine {
  return new ConversationEngine(getFlow(name, deps), options);
}

export { type AppointmentBookingOptions, createAppointmentBookingFlow } from './appointment-booking/index.js';
