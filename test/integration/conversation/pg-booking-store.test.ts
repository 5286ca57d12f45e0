import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bookWithFreshCode,
  createAppointmentBookingFlow,
  PgBookingStore,
} from '../../../agents/appointment-booking/index.js';
import {
  ConversationEngine,
  DEFAULT_ORGANIZATION_ID,
  RecordingObserver,
} from '../../../src/conversation/index.js';
import { migrateUp } from '../../../src/persistence/migrate.js';
import { appointmentsOf } from '../../helpers/flows.js';
import { dropDatabase } from '../persistence/helpers.js';

/**
 * The Postgres booking store against a real server: a throwaway database va_conv_<random>
 * built by the project's migration runner (migrations/*.sql), dropped afterwards.
 */

const BASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NOW = new Date('2025-03-05T15:00:00Z'); // Wednesday 10:00 in New York

function urlFor(database: string): string {
  const url = new URL(BASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

const database = `va_conv_${randomBytes(5).toString('hex')}`;
let pool: pg.Pool;

beforeAll(async () => {
  await migrateUp(urlFor(database));
  pool = new pg.Pool({ connectionString: urlFor(database), max: 12 });
});

afterAll(async () => {
  await pool?.end();
  await dropDatabase(urlFor(database));
});

let codeSeq = 0;
const code = () => `T${String(++codeSeq).padStart(5, '0')}`;
const randomCodes = () => Math.random();

describe('PgBookingStore', () => {
  it('books, finds, lists taken times, reschedules and cancels', async () => {
    const store = new PgBookingStore(pool);
    const callId = randomUUID();
    const r = await store.book({
      conversationId: callId,
      userName: 'Ada Lovelace',
      date: '2030-01-07',
      time: '09:30',
      type: 'checkup',
      contact: '+14155552671',
      confirmationCode: 'AF3KQ9',
    });
    expect(r).toMatchObject({
      ok: true,
      booking: { date: '2030-01-07', time: '09:30', status: 'confirmed' },
    });
    if (!r.ok) return;
    expect(r.booking.organizationId).toBe(DEFAULT_ORGANIZATION_ID);

    // The placeholder conversation row satisfies the foreign key until call.started lands.
    const conv = await pool.query(
      'SELECT session_id, status, organization_id FROM conversations WHERE id = $1',
      [callId],
    );
    expect(conv.rows[0]).toEqual({
      session_id: callId,
      status: 'ACTIVE',
      organization_id: DEFAULT_ORGANIZATION_ID,
    });
    const row = await pool.query('SELECT conversation_id, event_updated_at FROM appointments WHERE id = $1', [
      r.booking.id,
    ]);
    expect(row.rows[0]).toEqual({ conversation_id: callId, event_updated_at: null });

    expect(await store.findByCode('AF3KQ9')).toEqual(r.booking);
    expect(await store.findByCode('NOPE00')).toBeNull();
    expect(await store.takenTimes('2030-01-07')).toEqual(['09:30']);
    expect(await store.takenTimes('2030-01-07', { exceptCode: 'AF3KQ9' })).toEqual([]);

    const moved = await store.reschedule('AF3KQ9', '2030-01-08', '10:00');
    expect(moved).toMatchObject({
      ok: true,
      booking: { date: '2030-01-08', time: '10:00' },
      previous: { date: '2030-01-07', time: '09:30' },
    });
    const meta = await pool.query('SELECT metadata FROM appointments WHERE confirmation_code = $1', [
      'AF3KQ9',
    ]);
    expect(meta.rows[0].metadata).toEqual({ rescheduled_from: '2030-01-07 09:30' });
    expect(await store.reschedule('NOPE00', '2030-01-08', '10:00')).toEqual({
      ok: false,
      reason: 'not_found',
    });

    const cancelled = await store.cancel('AF3KQ9');
    expect(cancelled).toMatchObject({ status: 'cancelled', date: '2030-01-08' });
    expect(await store.cancel('AF3KQ9')).toBeNull();
    // A cancelled slot is free again.
    expect((await store.book({ date: '2030-01-08', time: '10:00', confirmationCode: code() })).ok).toBe(true);
  });

  it('refuses double booking atomically: 10 concurrent bookings of one slot → exactly one succeeds', async () => {
    const stores = Array.from({ length: 10 }, () => new PgBookingStore(pool));
    const results = await Promise.all(
      stores.map((s, i) =>
        s.book({
          conversationId: randomUUID(),
          userName: `Caller ${i}`,
          date: '2030-02-04',
          time: '11:00',
          confirmationCode: code(),
        }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.reason)).toEqual(Array(9).fill('taken'));
    const n = await pool.query(
      "SELECT count(*)::int AS n FROM appointments WHERE appointment_date = '2030-02-04' AND appointment_time = '11:00' AND status = 'confirmed'",
    );
    expect(n.rows[0].n).toBe(1);
  });

  it('concurrent reschedules into one free slot: one wins, the other is told it is taken', async () => {
    const store = new PgBookingStore(pool);
    const a = code();
    const b = code();
    await store.book({ date: '2030-03-04', time: '09:00', confirmationCode: a });
    await store.book({ date: '2030-03-04', time: '09:30', confirmationCode: b });
    const results = await Promise.all([
      store.reschedule(a, '2030-03-05', '15:00'),
      store.reschedule(b, '2030-03-05', '15:00'),
    ]);
    expect(results.map((r) => r.ok).sort()).toEqual([false, true]);
    expect(results.find((r) => !r.ok)).toEqual({ ok: false, reason: 'taken' });
  });

  it('a duplicate confirmation code is reported, and bookWithFreshCode retries past it', async () => {
    const store = new PgBookingStore(pool);
    await store.book({ date: '2030-04-01', time: '09:00', confirmationCode: 'AAAAAA' });
    expect(await store.book({ date: '2030-04-01', time: '10:00', confirmationCode: 'AAAAAA' })).toEqual({
      ok: false,
      reason: 'duplicate_code',
    });
    // The first draw (all zeros → AAAAAA) collides; the retry draws a fresh code.
    let n = 0;
    const r = await bookWithFreshCode(store, { date: '2030-04-01', time: '10:00' }, () =>
      n++ < 6 ? 0 : Math.random(),
    );
    expect(r.ok).toBe(true);
    expect(r.ok && r.booking.confirmationCode).not.toBe('AAAAAA');
  });

  it('keeps organizations apart', async () => {
    const org = randomUUID();
    await pool.query('INSERT INTO organizations (id, name) VALUES ($1, $2)', [org, 'other clinic']);
    const other = new PgBookingStore(pool, { organizationId: org });
    const mine = new PgBookingStore(pool);
    expect((await mine.book({ date: '2030-05-06', time: '09:00', confirmationCode: code() })).ok).toBe(true);
    expect((await other.book({ date: '2030-05-06', time: '09:00', confirmationCode: code() })).ok).toBe(true);
    expect(await other.takenTimes('2030-05-06')).toEqual(['09:00']);
  });
});

describe('two concurrent calls booking the same slot (engine + PgBookingStore)', () => {
  const HAPPY = [
    'i would like to book an appointment',
    'my name is john smith',
    'a check up please',
    'next tuesday',
    'three thirty p m',
    'four one five five five five two six seven one',
  ];

  it('one caller gets the slot; the other is told it was just taken, offered times, and books one', async () => {
    const flow = createAppointmentBookingFlow({ store: new PgBookingStore(pool) });
    const calls = [randomUUID(), randomUUID()].map((callId) => {
      const rec = new RecordingObserver();
      const engine = new ConversationEngine(flow, {
        now: () => NOW,
        callId,
        observer: rec,
        random: randomCodes,
      });
      return { callId, engine, rec };
    });
    for (const c of calls) {
      await c.engine.start();
      for (const line of HAPPY) await c.engine.handleUserText(line);
      expect(c.engine.state).toBe('confirm_booking'); // both saw the slot free
    }
    const replies = await Promise.all(calls.map((c) => c.engine.handleUserText('yes')));
    const winner = replies.findIndex((r) => r.state === 'rate');
    const loser = 1 - winner;
    expect(winner).toBeGreaterThanOrEqual(0);
    expect(replies[loser]!.state).toBe('collect_time');
    expect(replies[loser]!.text).toMatch(
      /^Sorry, that time was just taken by another caller\. The closest times I have on Tuesday, March 11th are 3 PM or 4 PM\./,
    );

    const again = await calls[loser]!.engine.handleUserText('the later one');
    expect(again.state).toBe('confirm_booking');
    expect((await calls[loser]!.engine.handleUserText('yes')).state).toBe('rate');

    const rows = await pool.query(
      `SELECT conversation_id, to_char(appointment_time, 'HH24:MI') AS time FROM appointments
       WHERE appointment_date = '2025-03-11' AND status = 'confirmed' ORDER BY appointment_time`,
    );
    expect(rows.rows).toEqual([
      { conversation_id: calls[winner]!.callId, time: '15:30' },
      { conversation_id: calls[loser]!.callId, time: '16:00' },
    ]);
    for (const c of calls) {
      expect(appointmentsOf(c.rec)).toHaveLength(1);
      const [appt] = appointmentsOf(c.rec);
      const row = await pool.query('SELECT confirmation_code FROM appointments WHERE id = $1', [
        appt!.appointment_id,
      ]);
      expect(row.rows[0].confirmation_code).toBe(appt!.confirmation_code);
    }
  });
});
