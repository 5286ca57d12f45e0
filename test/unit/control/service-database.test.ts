import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { serviceDatabaseUrl } from '../../../src/config/service-database.js';

describe('service database URLs', () => {
  it("default to DATABASE_URL as the service's role, without the migrator's password", () => {
    const cfg = loadConfig({ DATABASE_URL: 'postgres://postgres:secret@db.internal:5433/va' });
    expect(serviceDatabaseUrl(cfg, 'persister')).toBe('postgres://voice_persister@db.internal:5433/va');
    expect(serviceDatabaseUrl(cfg, 'admin')).toBe('postgres://voice_admin_api@db.internal:5433/va');
    expect(serviceDatabaseUrl(cfg, 'worker')).toContain('voice_worker@');
    expect(serviceDatabaseUrl(cfg, 'reporting')).toContain('voice_reporting@');
  });

  it('use the explicit variable when set, and reject one that is not a Postgres URL', () => {
    const url = 'postgres://voice_persister:pw@db.internal/va';
    expect(serviceDatabaseUrl(loadConfig({ PERSISTER_DATABASE_URL: url }), 'persister')).toBe(url);
    expect(() => loadConfig({ ADMIN_DATABASE_URL: 'mysql://x' })).toThrow(/ADMIN_DATABASE_URL/);
  });
});
