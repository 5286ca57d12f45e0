import type { AnyFlowPackage } from '../src/conversation/index.js';
import { appointmentBooking } from './appointment-booking/index.js';
import { callbackRequest } from './examples/callback/index.js';
import { feedbackSurvey } from './feedback-survey/index.js';
import { paymentReminder } from './payment-reminder/index.js';

/**
 * Every flow package the platform can run, by name. Registering a flow is one line here;
 * hosts (worker, simulator, demo, persister, `migrate up`, `route add`) find everything else
 * through the package definition.
 */
export const flowPackages: readonly AnyFlowPackage[] = [
  appointmentBooking,
  callbackRequest,
  feedbackSurvey,
  paymentReminder,
];

const byName = new Map(flowPackages.map((p) => [p.name, p]));

export const flowNames: readonly string[] = flowPackages.map((p) => p.name);

export function isFlowName(name: string): boolean {
  return byName.has(name);
}

/** The package named `name`, or undefined. */
export function findFlowPackage(name: string): AnyFlowPackage | undefined {
  return byName.get(name);
}

export function getFlowPackage(name: string): AnyFlowPackage {
  const pkg = byName.get(name);
  if (!pkg) throw new Error(`unknown flow "${name}" (known: ${flowNames.join(', ')})`);
  return pkg;
}

/** Every package's migrations folder, for `migrate up` (applied after the core migrations). */
export function flowMigrationSets(): { flow: string; dir: string }[] {
  return flowPackages.flatMap((p) => (p.migrations ? [{ flow: p.name, dir: p.migrations }] : []));
}
