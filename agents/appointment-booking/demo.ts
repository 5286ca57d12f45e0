import { fileURLToPath } from 'node:url';
import type { FlowDemo } from '../../src/conversation/index.js';

/** What `npm run demo` plays and prints for the booking flow. */
export const bookingDemo: FlowDemo = {
  script: fileURLToPath(new URL('./calls/happy-path.yaml', import.meta.url)),
  tables: ['appointments', 'user_feedback'],
  async prepare(db) {
    // The scripted call runs on a fixed date, so it books the same slot every time: release the
    // slots earlier demo calls booked, or a second demo would find its time taken.
    const released = await db.query(
      `UPDATE appointments SET status = 'cancelled'
        WHERE status = 'confirmed'
          AND conversation_id IN (SELECT id FROM conversations WHERE room_name LIKE 'demo-%')`,
    );
    return released.rowCount ? [`released ${released.rowCount} slot(s) booked by earlier demo calls`] : [];
  },
  async report(db, callId) {
    const appt = await db.query(
      `SELECT confirmation_code, appointment_date::text AS date, to_char(appointment_time,'HH24:MI') AS time, status
       FROM appointments WHERE conversation_id = $1`,
      [callId],
    );
    return appt.rows.map((a) => `appointment ${a.confirmation_code}: ${a.date} ${a.time} (${a.status})`);
  },
};
