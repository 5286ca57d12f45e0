import pg from 'pg';
import type { FlowResources } from '../../src/conversation/index.js';
import { PgReminderStore } from './store/pg-store.js';
import type { ReminderStore } from './store/store.js';

export interface ReminderResources {
  store: ReminderStore;
  pool?: pg.Pool;
}

/** One store per worker process, on its own small pool (the worker's role, RLS per call). */
export const reminderResources: FlowResources<ReminderResources> = {
  open(ctx) {
    const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: ctx.maxConnections });
    pool.on('error', (err) => ctx.warn('payment reminder database connection error', err));
    return { store: new PgReminderStore(pool, ctx.personalData), pool };
  },
  close: async (resources) => {
    await resources.pool?.end();
  },
};
