import type { Config } from './config.js';

/**
 * Which database role each service connects as. DATABASE_URL is the migrator's connection
 * (`migrate up`, test setup); services use their own role so row-level security applies to
 * them (roles: migrations/010_tenancy_roles_rls.sql, grants: docs/SECURITY.md).
 */

export type Service = 'persister' | 'worker' | 'admin' | 'reporting';

export const SERVICE_ROLES: Record<Service, string> = {
  persister: 'voice_persister',
  worker: 'voice_worker',
  admin: 'voice_admin_api',
  reporting: 'voice_reporting',
};

const EXPLICIT: Record<Service, keyof Config> = {
  persister: 'PERSISTER_DATABASE_URL',
  worker: 'WORKER_DATABASE_URL',
  admin: 'ADMIN_DATABASE_URL',
  reporting: 'REPORTING_DATABASE_URL',
};

/** `url` with `role` as its user name and no password (local trust authentication). */
export function withDatabaseRole(url: string, role: string): string {
  const u = new URL(url);
  u.username = role;
  u.password = '';
  return u.toString();
}

/** The service's own *_DATABASE_URL, else DATABASE_URL as the service's role. */
export function serviceDatabaseUrl(cfg: Config, service: Service): string {
  const explicit = cfg[EXPLICIT[service]];
  if (typeof explicit === 'string') return explicit;
  return withDatabaseRole(cfg.DATABASE_URL, SERVICE_ROLES[service]);
}
