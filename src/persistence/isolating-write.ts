import type pg from 'pg';
import type { CallEvent } from '../events/index.js';
import { isDataError, withTransaction } from './db.js';
import type { PiiKeyRing } from './pii.js';
import { noRecordWriters, type RecordWriterLookup } from './record-writers.js';
import { writeEvents } from './writer.js';

export interface RejectedEvent {
  event: CallEvent;
  reason: string;
}

/**
 * Writes a batch in one transaction; when the database refuses it for its data (a constraint,
 * a bad value), splits it in halves and retries each, down to single events, so a poison
 * batch of n events with k bad ones costs O(k log n) transactions, the bad events are
 * returned for the dead-letter queue and the rest commit. Any other error is thrown: the
 * batch is retried as a whole.
 */
export async function writeIsolating(
  pool: pg.Pool,
  events: CallEvent[],
  pii: PiiKeyRing,
  records: RecordWriterLookup = noRecordWriters,
): Promise<RejectedEvent[]> {
  if (events.length === 0) return [];
  try {
    await withTransaction(pool, (client) => writeEvents(client, events, pii, records));
    return [];
  } catch (err) {
    if (!isDataError(err)) throw err;
    if (events.length === 1) return [{ event: events[0] as CallEvent, reason: rejectionReason(err) }];
  }
  const middle = Math.ceil(events.length / 2);
  const first = await writeIsolating(pool, events.slice(0, middle), pii, records);
  const second = await writeIsolating(pool, events.slice(middle), pii, records);
  return first.concat(second);
}

function rejectionReason(err: unknown): string {
  const e = err as { message: string; code?: string; constraint?: string };
  return `rejected by database (${e.code}${e.constraint ? ` ${e.constraint}` : ''}): ${e.message}`;
}
