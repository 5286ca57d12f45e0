import type pg from 'pg';

/**
 * The one way control-plane changes are recorded (seed 004's audit trail): CLI commands, the
 * admin API, routes, settings, erasures and exports all call recordAudit inside the
 * transaction that makes the change, so a change and its record commit together or not at
 * all. audit_logs is append-only for every service role (migrations/011_control_plane.sql).
 */

export type ActorType = 'user' | 'api_key' | 'cli' | 'system';

export interface Actor {
  type: ActorType;
  /** A user id, an API key id, an operator's login name, or a system component. */
  id: string;
}

export interface AuditEntry {
  organizationId: string;
  actor: Actor;
  /** What happened: created, updated, deleted, revoked, erased, exported, ... */
  action: string;
  /** What it happened to: organization, user, api_key, route, setting, customer, ... */
  entityType: string;
  entityId: string;
  /** The entity before and after, without secrets (hashes, keys, personal data in clear). */
  before?: unknown;
  after?: unknown;
  metadata?: Record<string, unknown>;
}

/**
 * Appends one audit row. `client` must be in a transaction scoped to entry.organizationId
 * (withOrganization), which row-level security checks.
 */
export async function recordAudit(client: pg.ClientBase, entry: AuditEntry): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO audit_logs (organization_id, actor_type, actor_id, action, entity_type, entity_id,
       before, after, metadata)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [
      entry.organizationId,
      entry.actor.type,
      entry.actor.id,
      entry.action,
      entry.entityType,
      entry.entityId,
      entry.before === undefined ? null : JSON.stringify(entry.before),
      entry.after === undefined ? null : JSON.stringify(entry.after),
      entry.metadata ? JSON.stringify(entry.metadata) : null,
    ],
  );
  return rows[0]!.id;
}
