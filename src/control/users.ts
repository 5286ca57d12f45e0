import type pg from 'pg';
import { withOrganization } from '../persistence/tenant-scope.js';
import { type Actor, recordAudit } from './audit.js';
import { hashPassword } from './passwords.js';

export const USER_ROLES = ['owner', 'admin', 'analyst', 'agent'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export interface User {
  id: string;
  organization_id: string;
  email: string;
  first_name: string | null;
  last_name: string | null;
  role: UserRole;
  is_active: boolean;
  created_at: Date;
}

export interface NewUser {
  organizationId: string;
  email: string;
  password: string;
  role: UserRole;
  firstName?: string;
  lastName?: string;
}

const COLUMNS = 'id, organization_id, email, first_name, last_name, role, is_active, created_at';
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function parseRole(role: string): UserRole {
  if (!(USER_ROLES as readonly string[]).includes(role)) {
    throw new RangeError(`role must be one of ${USER_ROLES.join(', ')} (got "${role}")`);
  }
  return role as UserRole;
}

export async function createUser(pool: pg.Pool, actor: Actor, input: NewUser): Promise<User> {
  const email = input.email.trim().toLowerCase();
  if (!EMAIL.test(email)) throw new RangeError(`not an email address: "${input.email}"`);
  const role = parseRole(input.role);
  const passwordHash = await hashPassword(input.password);
  return withOrganization(pool, input.organizationId, async (client) => {
    const { rows } = await client.query<User>(
      `INSERT INTO users (organization_id, email, password_hash, role, first_name, last_name)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [input.organizationId, email, passwordHash, role, input.firstName ?? null, input.lastName ?? null],
    );
    const user = rows[0]!;
    await recordAudit(client, {
      organizationId: input.organizationId,
      actor,
      action: 'created',
      entityType: 'user',
      entityId: user.id,
      after: user,
    });
    return user;
  });
}

export function listUsers(pool: pg.Pool, organizationId: string): Promise<User[]> {
  return withOrganization(pool, organizationId, async (client) => {
    const { rows } = await client.query<User>(`SELECT ${COLUMNS} FROM users ORDER BY created_at, id`);
    return rows;
  });
}
