import { getFlowPackage } from '../../agents/index.js';
import { ConversationEngine, type EngineOptions, type FlowRecord } from '../../src/conversation/index.js';

/** An engine for a registered flow package, as hosts build one (settings `{}` unless given). */
export function packageEngine(
  name: string,
  resources: unknown,
  options: EngineOptions = {},
  settings: unknown = {},
): ConversationEngine {
  const pkg = getFlowPackage(name);
  return new ConversationEngine(
    pkg.createFlow({ settings: pkg.settings.parse(settings), resources }),
    options,
  );
}

/**
 * The booking flow's appointment records flattened as the appointments row sees them (id,
 * data fields, and the action the flow put into metadata).
 */
export function appointmentsOf(source: { records: readonly FlowRecord[] }) {
  return source.records
    .filter((r) => r.type === 'appointment')
    .map((r) => ({
      appointment_id: r.id,
      action: (r.data.metadata as { action?: string } | undefined)?.action,
      ...r.data,
    })) as ({ appointment_id: string; action: string; confirmation_code: string } & Record<
    string,
    unknown
  >)[];
}

export function feedbackOf(source: { records: readonly FlowRecord[] }) {
  return source.records.filter((r) => r.type === 'feedback').map((r) => r.data);
}
