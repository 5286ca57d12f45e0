import type pg from 'pg';
import { type CallEvent, DEFAULT_ORGANIZATION_ID } from '../events/index.js';
import { withTransaction } from './db.js';

/**
 * Row-level security scope. Every tenant table's policy compares organization_id with the
 * transaction-local setting `app.organization_id` (migrations/010_tenancy_roles_rls.sql);
 * with none set, tenant tables show nothing and accept nothing.
 */

export const ORGANIZATION_SETTING = 'app.organization_id';

/** `SET LOCAL app.organization_id`: lasts until the transaction ends; client must be in one. */
export async function setOrganization(client: pg.ClientBase, organizationId: string): Promise<void> {
  await client.query('SELECT set_config($1, $2, true)', [ORGANIZATION_SETTING, organizationId]);
}

/** Runs `fn` in a transaction scoped to one organization. */
export function withOrganization<T>(
  pool: pg.Pool,
  organizationId: string,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  return withTransaction(pool, async (client) => {
    await setOrganization(client, organizationId);
    return fn(client);
  });
}

/**
 * Runs `fn` once per organization, each in a transaction scoped to it: cross-call bookkeeping
 * (reconciliation, re-dispatch aliases) sees and writes each organization's rows under its
 * own row-level security, never across organizations.
 */
export async function forEachOrganization<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient, organizationId: string) => Promise<T>,
): Promise<T[]> {
  const results: T[] = [];
  for (const id of await organizationIds(pool))
    results.push(await withOrganization(pool, id, (c) => fn(c, id)));
  return results;
}

/** Every organization's id, for maintenance that runs once per organization (reaper, retention). */
export async function organizationIds(pool: pg.Pool | pg.ClientBase): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>('SELECT id FROM tenant_organization_ids() AS id');
  return rows.map((r) => r.id);
}

export interface OrganizationGroup {
  organizationId: string;
  events: CallEvent[];
  /** Events whose own organization_id disagreed with their call's and was overridden. */
  overridden: number;
}

/**
 * Splits a batch by the organization each call belongs to. A call's organization is the one
 * its conversations row has (call.started set it from the call's route); an event claiming
 * another is rewritten to the call's, never trusted. A call with no row yet takes its
 * call.started's organization if the batch holds it, else the first claim, else the default.
 */
export async function groupByOrganization(
  client: pg.ClientBase,
  events: CallEvent[],
): Promise<OrganizationGroup[]> {
  const callIds = [...new Set(events.map((e) => e.call_id.toLowerCase()))];
  const { rows } = await client.query<{ call_id: string; organization_id: string }>(
    'SELECT call_id, organization_id FROM call_organizations($1::uuid[])',
    [callIds],
  );
  const orgOfCall = new Map(rows.map((r) => [r.call_id, r.organization_id]));
  const claimFor = (callId: string): string | undefined => {
    const ofCall = events.filter((e) => e.call_id.toLowerCase() === callId);
    const started = ofCall.find((e) => e.type === 'call.started');
    return started?.organization_id ?? ofCall.find((e) => e.organization_id)?.organization_id;
  };
  for (const callId of callIds) {
    if (!orgOfCall.has(callId)) orgOfCall.set(callId, claimFor(callId) ?? DEFAULT_ORGANIZATION_ID);
  }

  const groups = new Map<string, OrganizationGroup>();
  for (const event of events) {
    const organizationId = orgOfCall.get(event.call_id.toLowerCase())!;
    let group = groups.get(organizationId);
    if (!group) {
      group = { organizationId, events: [], overridden: 0 };
      groups.set(organizationId, group);
    }
    const claimed = event.organization_id;
    if (claimed && claimed.toLowerCase() !== organizationId) group.overridden++;
    group.events.push(claimed === organizationId ? event : { ...event, organization_id: organizationId });
  }
  // One order for every persister, so concurrent batches take row locks in the same order.
  return [...groups.values()].sort((a, b) => a.organizationId.localeCompare(b.organizationId));
}
