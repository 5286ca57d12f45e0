import type pg from 'pg';
import type { AnyFlowPackage } from '../conversation/flow-package.js';
import { parseFlowSettings, recognizerProblem } from '../conversation/flow-package.js';
import { DEFAULT_ORGANIZATION_ID } from '../events/model.js';
import { withOrganization } from '../persistence/tenant-scope.js';
import { type Actor, recordAudit } from './audit.js';

/**
 * Routes (migration 004 phone_routes): a dialled number or trunk → organization, flow and the
 * flow's settings. Adding one checks the flow exists and its package accepts the settings, so
 * a call never meets a route the platform cannot run (a later package change still can: the
 * worker checks again and fails the call with the reason). Every change is audited in the
 * transaction that makes it.
 */

/** Who changed a route when the caller names nobody (tests, scripts): the routes module. */
const UNNAMED_ACTOR: Actor = { type: 'system', id: 'routes' };

export interface PhoneRoute {
  id: string;
  organizationId: string;
  number: string | null;
  trunkId: string | null;
  flow: string;
  settings: Record<string, unknown>;
}

export interface NewRoute {
  number?: string;
  trunkId?: string;
  flow: string;
  settings?: unknown;
  organizationId?: string;
}

export class RouteError extends Error {
  override name = 'RouteError';
}

const E164 = /^\+[1-9]\d{1,14}$/;

/** The reason a route cannot be added, or null. */
export function routeProblem(
  route: NewRoute,
  findFlow: (name: string) => AnyFlowPackage | undefined,
  options: RouteOptions = {},
): string | null {
  if (!route.number && !route.trunkId) return 'a route needs a number (E.164) or a trunk id';
  if (route.number && !E164.test(route.number))
    return `number must be E.164 (+15551234567), got "${route.number}"`;
  const pkg = findFlow(route.flow);
  if (!pkg) return `unknown flow "${route.flow}"`;
  const settings = parseFlowSettings(pkg, route.settings ?? {});
  if (!settings.ok) return settings.reason;
  return recognizerProblem(pkg, settings.settings, options.recognizer);
}

/** What a route is checked against beyond its flow's settings. */
export interface RouteOptions {
  /** The speech recognizer calls will use (Config.resolvedProvider): its languages bound the route's. */
  recognizer?: string;
}

type Row = {
  id: string;
  organization_id: string;
  number: string | null;
  trunk_id: string | null;
  flow: string;
  settings: Record<string, unknown>;
};
const toRoute = (r: Row): PhoneRoute => ({
  id: r.id,
  organizationId: r.organization_id,
  number: r.number,
  trunkId: r.trunk_id,
  flow: r.flow,
  settings: r.settings,
});

export async function addRoute(
  db: pg.Pool,
  route: NewRoute,
  findFlow: (name: string) => AnyFlowPackage | undefined,
  actor: Actor = UNNAMED_ACTOR,
  options: RouteOptions = {},
): Promise<PhoneRoute> {
  const problem = routeProblem(route, findFlow, options);
  if (problem) throw new RouteError(problem);
  const organizationId = route.organizationId ?? DEFAULT_ORGANIZATION_ID;
  try {
    return await withOrganization(db, organizationId, async (client) => {
      const inserted = await client.query<Row>(
        `INSERT INTO phone_routes (organization_id, number, trunk_id, flow, settings)
         VALUES ($1, $2, $3, $4, $5) RETURNING id, organization_id, number, trunk_id, flow, settings`,
        [
          organizationId,
          route.number ?? null,
          route.trunkId ?? null,
          route.flow,
          JSON.stringify(route.settings ?? {}),
        ],
      );
      const added = toRoute(inserted.rows[0]!);
      await recordAudit(client, {
        organizationId,
        actor,
        action: 'created',
        entityType: 'route',
        entityId: added.id,
        after: added,
      });
      return added;
    });
  } catch (err) {
    const e = err as { code?: string; constraint?: string };
    if (e.code === '23505') throw new RouteError(`a route for ${route.number} exists already`);
    if (e.code === '23503') throw new RouteError(`unknown organization ${route.organizationId}`);
    throw err;
  }
}

export async function listRoutes(db: pg.Pool): Promise<PhoneRoute[]> {
  const r = await db.query<Row>(
    'SELECT id, organization_id, number, trunk_id, flow, settings FROM phone_routes ORDER BY number NULLS LAST, created_at',
  );
  return r.rows.map(toRoute);
}

/**
 * Removes the route with this id or number in the organization (default: the default one);
 * false when it has none.
 */
export async function removeRoute(
  db: pg.Pool,
  idOrNumber: string,
  options: { organizationId?: string; actor?: Actor } = {},
): Promise<boolean> {
  const organizationId = options.organizationId ?? DEFAULT_ORGANIZATION_ID;
  const column = E164.test(idOrNumber) ? 'number' : 'id::text';
  return withOrganization(db, organizationId, async (client) => {
    const deleted = await client.query<Row>(
      `DELETE FROM phone_routes WHERE ${column} = $1 AND organization_id = $2
       RETURNING id, organization_id, number, trunk_id, flow, settings`,
      [idOrNumber, organizationId],
    );
    const removed = deleted.rows[0];
    if (!removed) return false;
    await recordAudit(client, {
      organizationId,
      actor: options.actor ?? UNNAMED_ACTOR,
      action: 'deleted',
      entityType: 'route',
      entityId: removed.id,
      before: toRoute(removed),
    });
    return true;
  });
}

/** The route of a dialled number, else of the trunk, else null. */
export async function resolveRoute(
  db: pg.Pool,
  dialled: { number?: string; trunkId?: string },
): Promise<PhoneRoute | null> {
  if (!dialled.number && !dialled.trunkId) return null;
  const r = await db.query<Row>(
    `SELECT id, organization_id, number, trunk_id, flow, settings FROM phone_routes
     WHERE ($1::text IS NOT NULL AND number = $1) OR ($2::text IS NOT NULL AND number IS NULL AND trunk_id = $2)
     ORDER BY number NULLS LAST LIMIT 1`,
    [dialled.number ?? null, dialled.trunkId ?? null],
  );
  return r.rows[0] ? toRoute(r.rows[0]) : null;
}
