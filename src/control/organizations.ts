import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { withOrganization } from '../persistence/tenant-scope.js';
import { type Actor, recordAudit } from './audit.js';

export const ORGANIZATION_STATUSES = ['active', 'suspended', 'cancelled'] as const;

export interface Organization {
  id: string;
  name: string;
  tier: string;
  status: (typeof ORGANIZATION_STATUSES)[number];
  /** Agents, and the organization's concurrent-call limit. */
  max_agents: number;
  created_at: Date;
}

export interface NewOrganization {
  name: string;
  tier?: string;
  maxAgents?: number;
}

const COLUMNS = 'id, name, tier, status, max_agents, created_at';

export async function createOrganization(
  pool: pg.Pool,
  actor: Actor,
  input: NewOrganization,
): Promise<Organization> {
  const name = input.name.trim();
  if (!name) throw new RangeError('organization name must not be empty');
  const id = randomUUID();
  // The new row must satisfy the policy "id = current organization", so scope to it first.
  return withOrganization(pool, id, async (client) => {
    const { rows } = await client.query<Organization>(
      `INSERT INTO organizations (id, name, tier, max_agents) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
      [id, name, input.tier ?? 'free', input.maxAgents ?? 1],
    );
    const org = rows[0]!;
    await recordAudit(client, {
      organizationId: id,
      actor,
      action: 'created',
      entityType: 'organization',
      entityId: id,
      after: org,
    });
    return org;
  });
}

/** Every organization (the admin API's directory policy; other roles see only their own). */
export async function listOrganizations(pool: pg.Pool): Promise<Organization[]> {
  const { rows } = await pool.query<Organization>(
    `SELECT ${COLUMNS} FROM organizations ORDER BY created_at, id`,
  );
  return rows;
}
