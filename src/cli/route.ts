import type { Command } from 'commander';
import pg from 'pg';
import { findFlowPackage } from '../../agents/index.js';
import { loadConfig } from '../config/config.js';
import { addRoute, listRoutes, RouteError, removeRoute } from '../control/routes.js';
import { cliActor } from './control-common.js';

async function withDb<T>(fn: (db: pg.Pool) => Promise<T>): Promise<T> {
  const db = new pg.Pool({ connectionString: loadConfig().DATABASE_URL, max: 1 });
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

function settingsArg(raw: string | undefined): unknown {
  if (raw === undefined) return {};
  try {
    return JSON.parse(raw);
  } catch {
    throw new RouteError('--settings must be a JSON object');
  }
}

/** `voice-agent route add|list|remove`: which flow answers which number (phone_routes). */
export function registerRoute(program: Command): void {
  const route = program
    .command('route')
    .description('Per-call routes: number or trunk → organization, flow, settings');
  route
    .command('add')
    .description("add a route; the flow must exist and accept the settings (its package's schema)")
    .option('--number <e164>', 'the dialled number, E.164')
    .option('--trunk <id>', 'the SIP trunk id (routes every number of the trunk without its own route)')
    .requiredOption('--flow <name>', 'flow package name')
    .option('--settings <json>', "the flow's settings, a JSON object", '{}')
    .option('--org <uuid>', 'organization (default: the default organization)')
    .action(async (o: { number?: string; trunk?: string; flow: string; settings?: string; org?: string }) => {
      const added = await withDb((db) =>
        addRoute(
          db,
          {
            flow: o.flow,
            settings: settingsArg(o.settings),
            ...(o.number ? { number: o.number } : {}),
            ...(o.trunk ? { trunkId: o.trunk } : {}),
            ...(o.org ? { organizationId: o.org } : {}),
          },
          findFlowPackage,
          cliActor(),
          // The workers' recognizer: a route in a language it cannot hear is refused now.
          { recognizer: loadConfig().resolvedProvider },
        ),
      );
      console.log(`route ${added.id}: ${added.number ?? `trunk ${added.trunkId}`} → ${added.flow}`);
    });
  route
    .command('list')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const routes = await withDb(listRoutes);
      if (o.json) console.log(JSON.stringify(routes));
      else
        for (const r of routes)
          console.log(
            `${r.id}  ${r.number ?? `trunk ${r.trunkId}`}  ${r.flow}  ${JSON.stringify(r.settings)}`,
          );
    });
  route
    .command('remove <id-or-number>')
    .option('--org <uuid>', 'organization (default: the default organization)')
    .action(async (key: string, o: { org?: string }) => {
      const removed = await withDb((db) =>
        removeRoute(db, key, { actor: cliActor(), ...(o.org ? { organizationId: o.org } : {}) }),
      );
      if (!removed) throw new RouteError(`no route ${key}${o.org ? ` in organization ${o.org}` : ''}`);
      console.log(`removed route ${key}`);
    });
}
