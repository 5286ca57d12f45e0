import pg from 'pg';
import { findFlowPackage } from '../../agents/index.js';
import type { Config } from '../config/config.js';
import { type PhoneRoute, resolveRoute } from '../control/routes.js';
import { type AnyFlowPackage, parseFlowSettings } from '../conversation/flow-package.js';
import type { Logger } from '../observability/logger.js';
import { withTimeout } from '../util/async.js';

/** What runs a call: its flow package, validated settings, and organization when routed. */
export interface CallFlow {
  flow: string;
  pkg: AnyFlowPackage;
  settings: unknown;
  organizationId?: string;
}

/** The flow of a call, or an Error whose message is the reason the call cannot run. */
export function callFlow(flow: string, rawSettings: unknown, organizationId?: string): CallFlow {
  const pkg = findFlowPackage(flow);
  if (!pkg) throw new Error(`unknown flow "${flow}"`);
  const settings = parseFlowSettings(pkg, rawSettings ?? {});
  if (!settings.ok) throw new Error(settings.reason);
  return { flow, pkg, settings: settings.settings, ...(organizationId ? { organizationId } : {}) };
}

let pool: pg.Pool | undefined;

/**
 * The route of the dialled number (phone_routes), looked up once per inbound call on a
 * one-connection pool per process, bounded: an unreachable database means the development
 * default (FLOW), not a call left waiting.
 */
export async function lookupRoute(
  cfg: Config,
  dialled: { number?: string; trunkId?: string },
  log: Logger,
): Promise<PhoneRoute | null> {
  if (!dialled.number && !dialled.trunkId) return null;
  pool ??= new pg.Pool({ connectionString: cfg.DATABASE_URL, max: 1 }).on('error', () => undefined);
  try {
    return await withTimeout(resolveRoute(pool, dialled), 2000, 'route lookup');
  } catch (err) {
    log.warn({ err: err instanceof Error ? err.message : String(err) }, 'route lookup failed; using FLOW');
    return null;
  }
}
