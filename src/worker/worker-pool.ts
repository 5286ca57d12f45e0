import pg from 'pg';
import type { Config } from '../config/config.js';
import { serviceDatabaseUrl } from '../config/service-database.js';

let shared: { url: string; pool: pg.Pool } | undefined;

/**
 * One small pool per worker process as the worker's database role, for what a call job asks
 * before it runs (the compliance check, the organization's call limit). Background errors of
 * idle connections are dropped: the next query reconnects or fails on its own.
 */
export function workerRolePool(cfg: Config): pg.Pool {
  const url = serviceDatabaseUrl(cfg, 'worker');
  if (shared?.url !== url) {
    shared = { url, pool: new pg.Pool({ connectionString: url, max: 2 }).on('error', () => undefined) };
  }
  return shared.pool;
}
