import { rename, writeFile } from 'node:fs/promises';
import type { ConnectionOptions } from 'bullmq';
import type pg from 'pg';
import type { FlowPersonalTable } from '../conversation/flow-package.js';
import { adoptJournals, readEntries } from '../events/journal.js';
import { encodeEntry } from '../events/journal-codec.js';
import type { CallEvent } from '../events/schemas.js';
import { quoteIdent } from './db.js';
import { type DeadLetterEntry, DeadLetterQueue } from './dlq.js';
import { normalizePhoneNumber, type PiiKeyRing } from './pii.js';
import { findPersonRows, openSealed, type PersonQuery, type PersonRows } from './privacy-rows.js';

/**
 * `voice-agent privacy export|erase --phone …`: everything stored about one caller, as JSON,
 * or gone. Erasure deletes their calls with every child row (turns, transitions, slots,
 * lifecycle events, errors) and archived calls, deletes or anonymizes the rows of each flow
 * table that declares personal data as the flow says (a booking keeps its slot, not the
 * person), deletes slots elsewhere holding their number, removes dead letters about them from
 * Redis and their events from journals left by stopped producers. One database transaction:
 * all or nothing.
 */

export interface PrivacyStores {
  pool: pg.Pool;
  ring: PiiKeyRing;
  /** Dead letters live in Redis next to the event queue. */
  redis?: { connection: ConnectionOptions; eventQueue: string } | undefined;
  journalDir?: string | undefined;
  /** The flows' tables holding personal data (FlowPackage.personalData). */
  flowTables?: readonly FlowPersonalTable[];
}

const CHILD_TABLES = [
  'conversation_turns',
  'state_transitions',
  'extracted_slots',
  'call_events',
  'error_logs',
] as const;

function eventIsAbout(event: unknown, callIds: Set<string>, phone: string): boolean {
  const e = event as { call_id?: unknown; payload?: { sip?: { caller_number?: unknown } } } | null;
  if (typeof e?.call_id === 'string' && callIds.has(e.call_id)) return true;
  const caller = e?.payload?.sip?.caller_number;
  return typeof caller === 'string' && normalizePhoneNumber(caller) === phone;
}

/** Calls seen only in Redis or journals (not yet persisted) join the set by their caller number. */
function callIdsOf(events: unknown[], phone: string, into: Set<string>): void {
  for (const e of events) {
    if (eventIsAbout(e, into, phone)) {
      const id = (e as { call_id?: unknown }).call_id;
      if (typeof id === 'string') into.add(id);
    }
  }
}

/**
 * Events in journals no running producer holds (their lock is free): taken under their lock
 * while read, so a producer adopting them waits. Journals of running producers are skipped.
 */
async function journalEvents(dir: string | undefined, ring: PiiKeyRing): Promise<Map<string, CallEvent[][]>> {
  const files = new Map<string, CallEvent[][]>();
  if (!dir) return files;
  for (const journal of await adoptJournals(dir)) {
    try {
      const batches: CallEvent[][] = [];
      for await (const entry of readEntries(journal.path, () => {}, ring)) batches.push(entry.events);
      files.set(journal.path, batches);
    } finally {
      await journal.lock.release();
    }
  }
  return files;
}

async function rowsOf(db: pg.ClientBase, table: string, column: string, ids: string[]): Promise<unknown[]> {
  if (ids.length === 0) return [];
  return (
    await db.query(
      `SELECT * FROM ${quoteIdent(table)} WHERE ${quoteIdent(column)} = ANY($1::uuid[]) ORDER BY 1`,
      [ids],
    )
  ).rows;
}

export async function exportPerson(stores: PrivacyStores, q: PersonQuery): Promise<Record<string, unknown>> {
  const { pool, ring } = stores;
  const client = await pool.connect();
  try {
    const rows = await findPersonRows(client, ring, q, stores.flowTables);
    const calls = [];
    for (const row of await rowsOf(client, 'conversations', 'id', rows.callIds)) {
      const id = (row as { id: string }).id;
      const children: Record<string, unknown[]> = {};
      for (const t of CHILD_TABLES) children[t] = await rowsOf(client, t, 'conversation_id', [id]);
      calls.push({ ...(row as object), ...children });
    }
    const phone = normalizePhoneNumber(q.phone);
    const letters = stores.redis ? await deadLettersAbout(stores, rows, phone) : [];
    const journals = await journalEvents(stores.journalDir, ring);
    const ids = new Set(rows.callIds);
    const journalHits = [...journals.values()].flat(2).filter((e) => eventIsAbout(e, ids, phone));
    // Each flow table under its own name.
    const flowData: Record<string, unknown[]> = {};
    for (const [table, ids] of rows.flowRows)
      flowData[table.table] = await rowsOf(client, table.table, 'id', ids);
    return openSealed(ring, {
      phone_hash: rows.phoneHash.toString('hex'),
      organization_id: q.organizationId ?? null,
      conversations: calls,
      conversations_archive: await rowsOf(client, 'conversations_archive', 'id', rows.archivedIds),
      ...flowData,
      other_slots: await rowsOf(client, 'extracted_slots', 'id', rows.slotIds),
      dead_letters: letters.map((l) => l.data),
      journal_events: journalHits,
    }) as Record<string, unknown>;
  } finally {
    client.release();
  }
}

/** Dead letters and failed batches about the person (opened); with `remove`, deleted from Redis too. */
async function deadLettersAbout(stores: PrivacyStores, rows: PersonRows, phone: string, remove = false) {
  const redis = stores.redis as NonNullable<PrivacyStores['redis']>;
  const dlq = new DeadLetterQueue(redis.eventQueue, redis.connection, stores.ring);
  try {
    const entries = [...(await dlq.list(100_000)), ...(await dlq.listFailed(100_000))];
    const eventsOf = (entry: DeadLetterEntry) =>
      entry.kind === 'batch' ? [entry.event].flat() : [entry.event];
    const ids = new Set(rows.callIds);
    callIdsOf(entries.flatMap(eventsOf), phone, ids);
    const about = entries.filter((entry) => eventsOf(entry).some((e) => eventIsAbout(e, ids, phone)));
    if (remove) {
      for (const entry of about) {
        const queue = entry.kind === 'batch' ? dlq.events : dlq.queue;
        await (await queue.getJob(entry.id))?.remove();
      }
    }
    return about.map((entry) => ({ data: entry }));
  } finally {
    await dlq.close();
  }
}

export type ErasureCounts = Record<string, number>;

async function eraseRows(db: pg.ClientBase, rows: PersonRows): Promise<ErasureCounts> {
  const counts: ErasureCounts = {};
  const del = async (label: string, sql: string, ids: string[]) => {
    counts[label] = ids.length === 0 ? 0 : ((await db.query(sql, [ids])).rowCount ?? 0);
  };
  for (const [table, ids] of rows.flowRows) {
    if (table.erase === 'delete') {
      await del(table.table, `DELETE FROM ${quoteIdent(table.table)} WHERE id = ANY($1::uuid[])`, ids);
    } else {
      const blanks = table.erase.anonymize.map((column) => `${quoteIdent(column)} = NULL`).join(', ');
      await del(
        `${table.table} (anonymized)`,
        `UPDATE ${quoteIdent(table.table)} SET ${blanks} WHERE id = ANY($1::uuid[])`,
        ids,
      );
    }
  }
  await del(
    'extracted_slots (other calls)',
    'DELETE FROM extracted_slots WHERE id = ANY($1::uuid[])',
    rows.slotIds,
  );
  for (const t of CHILD_TABLES) {
    await del(t, `DELETE FROM ${t} WHERE conversation_id = ANY($1::uuid[])`, rows.callIds);
  }
  await del('conversations', 'DELETE FROM conversations WHERE id = ANY($1::uuid[])', rows.callIds);
  await del(
    'conversations_archive',
    'DELETE FROM conversations_archive WHERE id = ANY($1::uuid[])',
    rows.archivedIds,
  );
  return counts;
}

async function eraseJournals(stores: PrivacyStores, ids: Set<string>, phone: string): Promise<number> {
  let removed = 0;
  for (const [path, batches] of await journalEvents(stores.journalDir, stores.ring)) {
    const kept = batches.map((events) => events.filter((e) => !eventIsAbout(e, ids, phone)));
    const dropped = batches.flat().length - kept.flat().length;
    if (dropped === 0) continue;
    removed += dropped;
    const lines = kept
      .filter((events) => events.length > 0)
      .map((events, i) => `${encodeEntry({ jobId: `erased-${i}`, events }, stores.ring)}\n`);
    await writeFile(`${path}.tmp`, lines.join(''));
    await rename(`${path}.tmp`, path);
  }
  return removed;
}

export async function erasePerson(stores: PrivacyStores, q: PersonQuery): Promise<ErasureCounts> {
  const phone = normalizePhoneNumber(q.phone);
  const client = await stores.pool.connect();
  let counts: ErasureCounts;
  let rows: PersonRows;
  try {
    await client.query('BEGIN');
    rows = await findPersonRows(client, stores.ring, q, stores.flowTables);
    counts = await eraseRows(client, rows);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
  const ids = new Set(rows.callIds);
  if (stores.redis) {
    const letters = await deadLettersAbout(stores, rows, phone, true);
    counts['dead letters (redis)'] = letters.length;
  }
  counts['journal events'] = await eraseJournals(stores, ids, phone);
  return counts;
}
