import type pg from 'pg';
import type { ClockTime, IsoDate } from '../../../src/conversation/clock.js';
import { DEFAULT_ORGANIZATION_ID } from '../../../src/events/model.js';
import type { Booking, BookingStore, BookResult, NewBooking, RescheduleResult } from './store.js';

/**
 * BookingStore on the `appointments` table (migration 001). Double booking is refused by the
 * database itself: the unique partial index `appointments_no_double_booking` on
 * (organization_id, appointment_date, appointment_time) WHERE status = 'confirmed' makes the
 * second of two concurrent inserts (or reschedules) fail with 23505, which we report as
 * `taken`. No check-then-insert race is possible, whatever the number of workers.
 *
 * Rows written here have event_updated_at NULL, so the persister never overwrites them with
 * the appointment events the call also emits (the store is authoritative).
 */

const NO_DOUBLE_BOOKING = 'appointments_no_double_booking';

/** The selected columns, optionally qualified by a table alias (`a.`). */
const columns = (t = '') => `${t}id, ${t}organization_id, ${t}conversation_id, ${t}user_name,
  to_char(${t}appointment_date, 'YYYY-MM-DD') AS date, to_char(${t}appointment_time, 'HH24:MI') AS time,
  ${t}appointment_type, ${t}contact_info, ${t}status, ${t}confirmation_code`;
const COLUMNS = columns();

interface Row {
  id: string;
  organization_id: string;
  conversation_id: string | null;
  user_name: string | null;
  date: string;
  time: string;
  appointment_type: string | null;
  contact_info: string | null;
  status: Booking['status'];
  confirmation_code: string;
}

/** Contact fields hold personal data: sealed with the key ring when the store has one. */
export interface ContactCipher {
  sealText(text: string): string;
  openText(text: string): string;
}

const toBooking = (r: Row, cipher?: ContactCipher): Booking => ({
  id: r.id,
  organizationId: r.organization_id,
  conversationId: r.conversation_id,
  userName: r.user_name,
  date: r.date,
  time: r.time,
  type: r.appointment_type,
  contact: r.contact_info && cipher ? cipher.openText(r.contact_info) : r.contact_info,
  status: r.status,
  confirmationCode: r.confirmation_code,
});

function uniqueViolation(err: unknown): 'slot' | 'code' | null {
  const e = err as { code?: string; constraint?: string };
  if (e?.code !== '23505') return null;
  return e.constraint === NO_DOUBLE_BOOKING
    ? 'slot'
    : e.constraint?.includes('confirmation_code')
      ? 'code'
      : null;
}

export interface PgBookingStoreOptions {
  organizationId?: string;
  /** The PII key ring (src/persistence/pii.ts): contact_info is stored sealed. */
  contactCipher?: ContactCipher;
}

export class PgBookingStore implements BookingStore {
  readonly organizationId: string;
  readonly #cipher: ContactCipher | undefined;

  constructor(
    private readonly pool: pg.Pool,
    options: PgBookingStoreOptions = {},
  ) {
    this.organizationId = options.organizationId ?? DEFAULT_ORGANIZATION_ID;
    this.#cipher = options.contactCipher;
  }

  async takenTimes(date: IsoDate, options: { exceptCode?: string } = {}): Promise<ClockTime[]> {
    const r = await this.pool.query<{ time: string }>(
      `SELECT to_char(appointment_time, 'HH24:MI') AS time FROM appointments
       WHERE organization_id = $1 AND appointment_date = $2 AND status = 'confirmed'
         AND confirmation_code IS DISTINCT FROM $3
       ORDER BY appointment_time`,
      [this.organizationId, date, options.exceptCode ?? null],
    );
    return r.rows.map((row) => row.time);
  }

  async book(req: NewBooking): Promise<BookResult> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      if (req.conversationId) {
        // The call's own row may not be persisted yet (events are asynchronous); a placeholder
        // satisfies the foreign key and the persister fills it in when call.started lands.
        await client.query(
          `INSERT INTO conversations (id, organization_id, session_id, room_name, status)
           VALUES ($1::uuid, $2, $1::uuid::text, '', 'ACTIVE') ON CONFLICT (id) DO NOTHING`,
          [req.conversationId, this.organizationId],
        );
      }
      const r = await client.query<Row>(
        `INSERT INTO appointments (organization_id, conversation_id, user_name, appointment_date,
           appointment_time, appointment_type, contact_info, status, confirmation_code, metadata)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'confirmed', $8, $9)
         RETURNING ${COLUMNS}`,
        [
          this.organizationId,
          req.conversationId ?? null,
          req.userName ?? null,
          req.date,
          req.time,
          req.type ?? null,
          req.contact ? (this.#cipher?.sealText(req.contact) ?? req.contact) : null,
          req.confirmationCode,
          req.metadata ? JSON.stringify(req.metadata) : null,
        ],
      );
      await client.query('COMMIT');
      return { ok: true, booking: toBooking(r.rows[0]!, this.#cipher) };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      const clash = uniqueViolation(err);
      if (clash === 'slot') return { ok: false, reason: 'taken' };
      if (clash === 'code') return { ok: false, reason: 'duplicate_code' };
      throw err;
    } finally {
      client.release(broken ? true : undefined);
    }
  }

  async findByCode(code: string): Promise<Booking | null> {
    const r = await this.pool.query<Row>(
      `SELECT ${COLUMNS} FROM appointments WHERE organization_id = $1 AND confirmation_code = $2`,
      [this.organizationId, code],
    );
    return r.rows[0] ? toBooking(r.rows[0], this.#cipher) : null;
  }

  async reschedule(code: string, date: IsoDate, time: ClockTime): Promise<RescheduleResult> {
    try {
      // One statement: the old values come from the same snapshot the update applies to.
      const r = await this.pool.query<Row & { old_date: string; old_time: string }>(
        `WITH old AS (
           SELECT id, to_char(appointment_date, 'YYYY-MM-DD') AS old_date,
                  to_char(appointment_time, 'HH24:MI') AS old_time
           FROM appointments
           WHERE organization_id = $1 AND confirmation_code = $2 AND status = 'confirmed'
           FOR UPDATE)
         UPDATE appointments a SET appointment_date = $3, appointment_time = $4,
           metadata = COALESCE(a.metadata, '{}'::jsonb) || jsonb_build_object(
             'rescheduled_from', old.old_date || ' ' || old.old_time)
         FROM old WHERE a.id = old.id
         RETURNING ${columns('a.')}, old.old_date, old.old_time`,
        [this.organizationId, code, date, time],
      );
      const row = r.rows[0];
      if (!row) return { ok: false, reason: 'not_found' };
      const booking = toBooking(row, this.#cipher);
      return { ok: true, booking, previous: { ...booking, date: row.old_date, time: row.old_time } };
    } catch (err) {
      if (uniqueViolation(err) === 'slot') return { ok: false, reason: 'taken' };
      throw err;
    }
  }

  async cancel(code: string): Promise<Booking | null> {
    const r = await this.pool.query<Row>(
      `UPDATE appointments SET status = 'cancelled'
       WHERE organization_id = $1 AND confirmation_code = $2 AND status = 'confirmed'
       RETURNING ${COLUMNS}`,
      [this.organizationId, code],
    );
    return r.rows[0] ? toBooking(r.rows[0], this.#cipher) : null;
  }
}
