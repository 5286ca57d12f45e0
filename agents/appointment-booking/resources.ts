import pg from 'pg';
import type { FlowResources } from '../../src/conversation/index.js';
import { PgBookingStore } from './store/pg-store.js';
import type { BookingStore } from './store/store.js';

/** One booking store per worker process, on its own small pool. */
export interface BookingResources {
  store: BookingStore;
  pool?: pg.Pool;
}

export const bookingResources: FlowResources<BookingResources> = {
  open(ctx) {
    const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: ctx.maxConnections });
    pool.on('error', (err) => ctx.warn('booking database connection error', err));
    const store = new PgBookingStore(pool, ctx.personalData ? { contactCipher: ctx.personalData } : {});
    return { store, pool };
  },
  close: async (r) => {
    await r.pool?.end();
  },
};
