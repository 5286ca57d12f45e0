import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDatabaseRole } from '../../../src/config/service-database.js';
import { createApiKey, listApiKeys, revokeApiKey } from '../../../src/control/api-key-store.js';
import { hashApiKey } from '../../../src/control/api-keys.js';
import { createCustomer, findCustomersByPhone } from '../../../src/control/customers.js';
import { createOrganization, listOrganizations } from '../../../src/control/organizations.js';
import { verifyPassword } from '../../../src/control/passwords.js';
import { createUser, listUsers } from '../../../src/control/users.js';
import { CLI } from '../../helpers/cli-process.js';
import { createTestDatabase, pii, type TestDatabase } from '../persistence/helpers.js';
import { rolePool } from '../persistence/tenant-fixtures.js';

const run = promisify(execFile);
const actor = { type: 'cli' as const, id: 'test-operator' };

describe('control plane as the admin API role', () => {
  let db: TestDatabase;
  let admin: ReturnType<typeof rolePool>;

  beforeAll(async () => {
    db = await createTestDatabase();
    admin = rolePool(db.url, 'voice_admin_api');
  });

  afterAll(async () => {
    await admin?.end();
    await db?.drop();
  });

  const audit = async (entityId: string) =>
    (
      await db.pool.query(
        'SELECT actor_type, actor_id, action, entity_type, before, after FROM audit_logs WHERE entity_id = $1 ORDER BY occurred_at',
        [entityId],
      )
    ).rows;

  it('creates organizations, users and keys, and audits each change with before and after', async () => {
    const org = await createOrganization(admin, actor, { name: 'Clinic', tier: 'pro', maxAgents: 5 });
    expect(org).toMatchObject({ name: 'Clinic', tier: 'pro', max_agents: 5, status: 'active' });
    expect((await listOrganizations(admin)).map((o) => o.id)).toContain(org.id);
    expect(await audit(org.id)).toMatchObject([
      { actor_type: 'cli', actor_id: 'test-operator', action: 'created', entity_type: 'organization' },
    ]);

    const user = await createUser(admin, actor, {
      organizationId: org.id,
      email: 'Ada@Example.test',
      password: 'a long enough secret',
      role: 'admin',
    });
    expect(user.email).toBe('ada@example.test');
    const stored = await db.pool.query('SELECT password_hash FROM users WHERE id = $1', [user.id]);
    expect(await verifyPassword('a long enough secret', stored.rows[0].password_hash)).toBe(true);
    expect(JSON.stringify(await audit(user.id))).not.toContain('scrypt');
    expect((await listUsers(admin, org.id)).map((u) => u.id)).toEqual([user.id]);

    const { key, info } = await createApiKey(admin, actor, {
      organizationId: org.id,
      name: 'reporting',
      permissions: ['calls:read'],
    });
    const row = await db.pool.query('SELECT key_hash FROM api_keys WHERE id = $1', [info.id]);
    expect(row.rows[0].key_hash.equals(hashApiKey(key))).toBe(true);
    expect(JSON.stringify(await db.pool.query('SELECT * FROM api_keys'))).not.toContain(key);
    expect(await revokeApiKey(admin, actor, org.id, info.id)).toBe(true);
    expect(await revokeApiKey(admin, actor, org.id, info.id)).toBe(false);
    expect((await listApiKeys(admin, org.id))[0]?.revoked_at).toBeInstanceOf(Date);
    const keyAudit = await audit(info.id);
    expect(keyAudit.map((a) => a.action)).toEqual(['created', 'revoked']);
    expect(keyAudit[1].before.revoked_at).toBeNull();
    expect(keyAudit[1].after.revoked_at).not.toBeNull();
  });

  it('stores a customer phone encrypted, finds it by keyed hash within its organization only', async () => {
    const a = await createOrganization(admin, actor, { name: 'A' });
    const b = await createOrganization(admin, actor, { name: 'B' });
    const c = await createCustomer(admin, pii, actor, {
      organizationId: a.id,
      externalId: 'crm-1',
      firstName: 'José',
      lastName: 'García',
      phone: '+1 (555) 010-3000',
    });
    expect(c).toMatchObject({ first_name: 'José', last_name: 'García', has_phone: true });
    const row = (await db.pool.query('SELECT * FROM customers WHERE id = $1', [c.id])).rows[0];
    expect(row.phone_encrypted.toString('latin1')).not.toContain('5550103000');
    expect(pii.decrypt(row.phone_encrypted)).toBe('+1 (555) 010-3000');
    expect((await findCustomersByPhone(admin, pii, a.id, 'tel:+15550103000')).map((x) => x.id)).toEqual([
      c.id,
    ]);
    expect(await findCustomersByPhone(admin, pii, b.id, '+15550103000')).toEqual([]);
    expect(JSON.stringify(await audit(c.id))).not.toMatch(/555.?010.?3000/);
  });

  it("cannot list, revoke or add to another organization's keys and users", async () => {
    const a = await createOrganization(admin, actor, { name: 'A' });
    const b = await createOrganization(admin, actor, { name: 'B' });
    const { info } = await createApiKey(admin, actor, { organizationId: b.id, name: 'b', permissions: [] });
    expect(await listApiKeys(admin, a.id)).toEqual([]);
    expect(await revokeApiKey(admin, actor, a.id, info.id)).toBe(false);
    const forged = admin.query(
      `INSERT INTO users (organization_id, email, password_hash, role) VALUES ($1, 'x@y.test', 'h', 'owner')`,
      [b.id],
    );
    await expect(forged).rejects.toMatchObject({ code: '42501' });
  });

  it('runs as `voice-agent org|user|apikey` (built CLI), printing the key once', async () => {
    const env = { ...process.env, DATABASE_URL: db.url, VOICE_AGENT_ACTOR: 'cli-test', LOG_LEVEL: 'silent' };
    const created = await run(process.execPath, [CLI, 'org', 'create', '--name', 'CLI Org', '--json'], {
      env,
    });
    const org = JSON.parse(created.stdout);
    const listed = await run(process.execPath, [CLI, 'org', 'list', '--json'], { env });
    expect(listed.stdout).toContain(org.id);
    const key = await run(process.execPath, [CLI, 'apikey', 'create', '--org', org.id, '--name', 'ci'], {
      env,
    });
    const shown = /key \(shown once, store it now\): (va_\S+)/.exec(key.stdout)?.[1];
    expect(shown).toBeDefined();
    const keys = await run(process.execPath, [CLI, 'apikey', 'list', '--org', org.id], { env });
    expect(keys.stdout).toContain('ci');
    expect(keys.stdout).not.toContain(shown!);
    const user = await run(
      process.execPath,
      [CLI, 'user', 'create', '--org', org.id, '--email', 'op@example.test', '--role', 'owner'],
      { env },
    );
    expect(user.stdout).toMatch(/password \(shown once\): \S{20,}/);
    const bad = run(
      process.execPath,
      [CLI, 'user', 'create', '--org', org.id, '--email', 'x@y.test', '--role', 'root'],
      {
        env,
      },
    );
    await expect(bad).rejects.toMatchObject({ stderr: expect.stringContaining('role must be one of owner') });
    const actors = await db.pool.query(
      'SELECT DISTINCT actor_id FROM audit_logs WHERE organization_id = $1',
      [org.id],
    );
    expect(actors.rows).toEqual([{ actor_id: 'cli-test' }]);
    expect(withDatabaseRole(db.url, 'voice_admin_api')).toContain('voice_admin_api@');
  });
});
