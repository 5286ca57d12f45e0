import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgBookingStore } from '../../../agents/appointment-booking/store/pg-store.js';
import { flowPackages } from '../../../agents/index.js';
import { DEV_PII_HASH_KEY } from '../../../src/config/config.js';
import { type CallEvent, makeEvent } from '../../../src/events/index.js';
import { decodeEntry, encodeEntry } from '../../../src/events/journal-codec.js';
import { DeadLetterQueue } from '../../../src/persistence/dlq.js';
import { PiiKeyRing } from '../../../src/persistence/pii.js';
import { flowSealedColumns, rotatePii } from '../../../src/persistence/pii-rotate.js';
import { erasePerson, exportPerson } from '../../../src/persistence/privacy.js';
import { writeEvents } from '../../../src/persistence/writer.js';
import {
  createTestDatabase,
  flowRecordWriters,
  obliterateQueues,
  REDIS_URL,
  randomName,
  type TestDatabase,
} from '../persistence/helpers.js';

/** Personal data on the real Postgres: sealed and masked at rest, rotated, exported, erased. */

// The flows' sealed columns, as `voice-agent pii rotate` passes them.
const flowColumns = flowSealedColumns(flowPackages.flatMap((pkg) => pkg.personalData ?? []));

const PHONE = '+15550102000';
const k1 = randomBytes(32).toString('hex');
const k2 = randomBytes(32).toString('hex');
const ring1 = new PiiKeyRing({ keys: { k1 }, activeKeyId: 'k1', hashKeyHex: DEV_PII_HASH_KEY });
const ring2 = new PiiKeyRing({ keys: { k1, k2 }, activeKeyId: 'k2', hashKeyHex: DEV_PII_HASH_KEY });

function call(callId: string, caller: string, extra: (at: () => Date) => CallEvent[]): CallEvent[] {
  let t = Date.now();
  const at = () => {
    t += 100;
    return new Date(t);
  };
  return [
    makeEvent(
      'call.started',
      callId,
      {
        room_name: `call-${callId.slice(0, 8)}`,
        session_id: `s-${callId}`,
        flow: 'test',
        worker_id: 'w',
        direction: 'inbound',
        sip: { caller_number: caller },
      },
      { occurredAt: at() },
    ),
    ...extra(at),
  ];
}

const turn = (
  callId: string,
  n: number,
  role: 'user' | 'agent',
  text: string,
  metadata: Record<string, unknown>,
  at: () => Date,
) =>
  makeEvent(
    'turn',
    callId,
    { turn_id: randomUUID(), turn_number: n, role, text, metadata },
    { occurredAt: at() },
  );

/** Every value of every row of the call tables, as text: where a clear number would show. */
async function allText(db: TestDatabase): Promise<string> {
  const tables = ['conversations', 'conversation_turns', 'extracted_slots', 'appointments', 'call_events'];
  const parts = await Promise.all(
    tables.map((t) => db.pool.query(`SELECT row_to_json(x)::text AS j FROM ${t} x`)),
  );
  return parts.flatMap((p) => p.rows.map((r) => r.j as string)).join('\n');
}

describe('personal data at rest (real Postgres)', () => {
  let db: TestDatabase;
  const personCall = randomUUID();
  const otherCall = randomUUID();
  const queue = randomName('privacy_q');
  let journalDir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    journalDir = await mkdtemp(join(tmpdir(), 'va-privacy-'));
    const events = [
      ...call(personCall, '+1 (555) 010-2000', (at) => [
        turn(personCall, 1, 'user', 'my number is 555 010 2000', { input: 'speech' }, at),
        turn(
          personCall,
          2,
          'agent',
          'I have five five five, zero one zero, two zero zero zero. Right?',
          { input: 'reply' },
          at,
        ),
        turn(personCall, 3, 'user', '4921', { input: 'dtmf' }, at),
        turn(personCall, 4, 'user', '2', { input: 'dtmf', menu_choice: true }, at),
        makeEvent(
          'call.lifecycle',
          personCall,
          { event_type: 'dtmf_received', source: 'customer', data: { digit: '7' } },
          { occurredAt: at() },
        ),
        makeEvent(
          'slot',
          personCall,
          {
            slot_id: randomUUID(),
            slot_name: 'phone',
            slot_value: PHONE,
            confidence: 0.9,
            method: 'regex',
            validated: true,
          },
          { occurredAt: at() },
        ),
        makeEvent(
          'record',
          personCall,
          {
            record_id: randomUUID(),
            flow: 'appointment-booking',
            type: 'appointment',
            data: {
              user_name: 'José García',
              appointment_date: '2031-02-03',
              appointment_time: '10:30',
              contact_info: PHONE,
              status: 'confirmed',
              confirmation_code: `C-${randomBytes(4).toString('hex')}`,
            },
          },
          { occurredAt: at() },
        ),
      ]),
      ...call(otherCall, '+15550109999', (at) => [
        makeEvent(
          'slot',
          otherCall,
          {
            slot_id: randomUUID(),
            slot_name: 'callback',
            slot_value: '+1 555 010 2000',
            confidence: 0.9,
            method: 'regex',
            validated: true,
          },
          { occurredAt: at() },
        ),
        makeEvent(
          'slot',
          otherCall,
          {
            slot_id: randomUUID(),
            slot_name: 'date',
            slot_value: '2031-02-03',
            confidence: 0.9,
            method: 'regex',
            validated: true,
          },
          { occurredAt: at() },
        ),
      ]),
    ];
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await writeEvents(client, events, ring1, flowRecordWriters);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  });

  afterAll(async () => {
    await db?.drop();
    await obliterateQueues(queue);
    await rm(journalDir, { recursive: true, force: true });
  });

  it('stores no copy of the number in clear; keypad digits masked unless a menu choice; names intact', async () => {
    const text = await allText(db);
    expect(text).not.toMatch(/5550102000|555 010 2000|555\) 010|five five five, zero one zero/);
    expect(text).not.toContain('4921');
    expect(text).not.toMatch(/"digit": ?"7"/);
    expect(text).toMatch(/"digit": ?"•"/);
    const turns = await db.pool.query(
      'SELECT turn_number, text FROM conversation_turns WHERE conversation_id = $1 ORDER BY 1',
      [personCall],
    );
    const byNumber = Object.fromEntries(turns.rows.map((r) => [r.turn_number, r.text]));
    expect(byNumber[3]).toBe('••••');
    expect(byNumber[4]).toBe('2');
    const appt = await db.pool.query('SELECT user_name, contact_info FROM appointments');
    expect(appt.rows[0].user_name).toBe('José García');
    expect(ring1.openText(appt.rows[0].contact_info)).toBe(PHONE);
    const date = await db.pool.query("SELECT slot_value FROM extracted_slots WHERE slot_name = 'date'");
    expect(date.rows[0].slot_value).toBe('2031-02-03');
  });

  it('the booking store seals the contact it writes and opens it when read', async () => {
    const store = new PgBookingStore(db.pool, { contactCipher: ring1 });
    const r = await store.book({
      date: '2031-03-04',
      time: '09:00',
      contact: PHONE,
      confirmationCode: `B-${randomBytes(4).toString('hex')}`,
    });
    expect(r.ok && r.booking.contact).toBe(PHONE);
    const raw = await db.pool.query(
      "SELECT contact_info FROM appointments WHERE appointment_date = '2031-03-04'",
    );
    expect(raw.rows[0].contact_info).toMatch(/^enc2:k1:/);
  });

  it('pii rotate re-seals everything under the new key; old data still opens; a second run has nothing to do', async () => {
    const counts = await rotatePii(db.pool, ring2, flowColumns);
    const of = (t: string, c: string) => counts.find((x) => x.table === t && x.column === c)!;
    expect(of('conversations', 'caller_number_encrypted').rotated).toBe(2);
    expect(of('extracted_slots', 'slot_value').rotated).toBe(2);
    expect(of('appointments', 'contact_info').rotated).toBe(2);
    expect(counts.every((c) => c.unreadable === 0)).toBe(true);
    const only2 = new PiiKeyRing({ keys: { k2 }, activeKeyId: 'k2', hashKeyHex: DEV_PII_HASH_KEY });
    const conv = await db.pool.query('SELECT caller_number_encrypted AS c FROM conversations WHERE id = $1', [
      personCall,
    ]);
    expect(only2.keyIdOf(conv.rows[0].c)).toBe('k2');
    expect(only2.decrypt(conv.rows[0].c)).toBe('+1 (555) 010-2000');
    const again = await rotatePii(db.pool, ring2, flowColumns);
    expect(again.every((c) => c.rotated === 0)).toBe(true);
  });

  it('privacy export prints every row about the person, opened; erase removes them and nothing else', async () => {
    // A dead letter and a journal left by a stopped producer, both about the person's call.
    const dlq = new DeadLetterQueue(queue, { url: REDIS_URL }, ring1);
    const letterEvent = turn(personCall, 9, 'user', 'late turn', { input: 'speech' }, () => new Date());
    await dlq.add([{ event: letterEvent, reason: 'test', failedAt: new Date().toISOString() }]);
    await dlq.close();
    const host = hostname().replace(/[^A-Za-z0-9_.-]/g, '_');
    const journal = join(journalDir, `events-${host}-999999-test.jsonl`);
    const otherEvent = turn(otherCall, 5, 'user', 'kept', { input: 'speech' }, () => new Date());
    await writeFile(journal, `${encodeEntry({ jobId: 'j1', events: [letterEvent, otherEvent] }, ring2)}\n`);

    const stores = {
      pool: db.pool,
      ring: ring2,
      redis: { connection: { url: REDIS_URL }, eventQueue: queue },
      journalDir,
      flowTables: flowPackages.flatMap((pkg) => pkg.personalData ?? []),
    };
    const data = await exportPerson(stores, { phone: PHONE });
    const conversations = data.conversations as Array<Record<string, unknown>>;
    expect(conversations.map((c) => c.id)).toEqual([personCall]);
    expect(conversations[0]!.caller_number_encrypted).toBe('+1 (555) 010-2000');
    expect((conversations[0]!.conversation_turns as unknown[]).length).toBe(4);
    expect(JSON.stringify(data.appointments)).toContain(PHONE);
    expect((data.other_slots as Array<{ slot_value: string }>).map((s) => s.slot_value)).toEqual([
      '+1 555 010 2000',
    ]);
    expect((data.dead_letters as unknown[]).length).toBe(1);
    expect((data.journal_events as unknown[]).length).toBe(1);

    const counts = await erasePerson(stores, { phone: PHONE });
    expect(counts).toMatchObject({
      conversations: 1,
      conversation_turns: 4,
      extracted_slots: 1,
      'extracted_slots (other calls)': 1,
      'appointments (anonymized)': 2,
      'dead letters (redis)': 1,
      'journal events': 1,
    });
    expect((await db.pool.query('SELECT 1 FROM conversations WHERE id = $1', [personCall])).rowCount).toBe(0);
    expect((await db.pool.query('SELECT 1 FROM conversations WHERE id = $1', [otherCall])).rowCount).toBe(1);
    expect((await db.pool.query("SELECT 1 FROM extracted_slots WHERE slot_name = 'date'")).rowCount).toBe(1);
    const appts = await db.pool.query('SELECT user_name, contact_info FROM appointments');
    expect(appts.rows.every((r) => r.user_name === null && r.contact_info === null)).toBe(true);
    const left = await readFile(journal, 'utf8');
    expect(JSON.stringify(decodeEntry(left.trim(), ring2))).toContain('kept');
    expect((await exportPerson(stores, { phone: PHONE })).conversations).toEqual([]);
  });
});
