import type pg from 'pg';
import type {
  AnyFlowPackage,
  FlowRecordType,
  RecordRow,
  RecordWriteContext,
} from '../conversation/flow-package.js';
import type { CallEvent, RecordEvent } from '../events/index.js';

/**
 * Flow records (`record` events) reach the flow's own tables through the writer its package
 * declares: the persister looks the writer up by (flow, type), validates the data with the
 * record type's schema, and hands the rows over inside the batch's transaction. An unknown
 * type or invalid data is a data error (SQLSTATE 22023): that event alone is dead-lettered
 * with the reason, as a constraint violation would be.
 */

export type RecordWriterLookup = (flow: string, type: string) => FlowRecordType | undefined;

/** Writers of every registered package's record types. */
export function recordWritersOf(packages: Iterable<AnyFlowPackage>): RecordWriterLookup {
  const byKey = new Map<string, FlowRecordType>();
  for (const pkg of packages) {
    for (const [type, def] of Object.entries(pkg.records ?? {})) byKey.set(`${pkg.name}\u0000${type}`, def);
  }
  return (flow, type) => byKey.get(`${flow}\u0000${type}`);
}

export const noRecordWriters: RecordWriterLookup = () => undefined;

export class RecordRejectedError extends Error {
  readonly code = '22023';
  constructor(message: string) {
    super(message);
    this.name = 'RecordRejectedError';
  }
}

/** Keeps the latest event per record id: a record's later version wins. */
function latestPerRecord(events: RecordEvent[]): RecordEvent[] {
  const chosen = new Map<string, RecordEvent>();
  for (const e of events) {
    const prev = chosen.get(e.payload.record_id);
    if (!prev || Date.parse(e.occurred_at) >= Date.parse(prev.occurred_at))
      chosen.set(e.payload.record_id, e);
  }
  return [...chosen.values()];
}

export async function writeRecords(
  client: pg.ClientBase,
  events: CallEvent[],
  lookup: RecordWriterLookup,
  context: RecordWriteContext,
): Promise<void> {
  const records = events.filter((e): e is RecordEvent => e.type === 'record');
  if (records.length === 0) return;
  const groups = new Map<FlowRecordType, RecordRow<unknown>[]>();
  for (const e of latestPerRecord(records)) {
    const { flow, type, data, record_id } = e.payload;
    const def = lookup(flow, type);
    if (!def) throw new RecordRejectedError(`no writer for record type "${type}" of flow "${flow}"`);
    const parsed = def.schema.safeParse(data);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`).join('; ');
      throw new RecordRejectedError(`invalid ${flow} ${type} record: ${why}`);
    }
    const row: RecordRow<unknown> = {
      id: record_id,
      call_id: e.call_id,
      occurred_at: e.occurred_at,
      data: parsed.data,
      ...(e.organization_id ? { organization_id: e.organization_id } : {}),
    };
    groups.set(def, [...(groups.get(def) ?? []), row]);
  }
  for (const [def, rows] of groups)
    await def.write(client, rows as RecordRow<Record<string, unknown>>[], context);
}
