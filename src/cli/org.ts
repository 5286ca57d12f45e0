import type { Command } from 'commander';
import { createOrganization, listOrganizations } from '../control/organizations.js';
import { cliActor, printRows, UsageError, withAdminPool } from './control-common.js';

const COLUMNS = ['id', 'name', 'tier', 'status', 'max_agents', 'created_at'];

/** `voice-agent org create|list`: organizations (tenants), audited. */
export function registerOrg(program: Command): void {
  const org = program.command('org').description('Create and list organizations (tenants)');

  org
    .command('create')
    .description('Create an organization and print its id')
    .requiredOption('--name <name>', 'display name')
    .option('--tier <tier>', 'subscription tier', 'free')
    .option('--max-agents <n>', 'agents, and the concurrent-call limit', '1')
    .option('--json', 'print the organization as JSON')
    .action(async (opts: { name: string; tier: string; maxAgents: string; json?: boolean }) => {
      const maxAgents = Number(opts.maxAgents);
      if (!Number.isInteger(maxAgents) || maxAgents < 1)
        throw new UsageError('--max-agents must be a positive integer');
      const created = await withAdminPool((pool) =>
        createOrganization(pool, cliActor(), { name: opts.name, tier: opts.tier, maxAgents }),
      );
      if (opts.json) console.log(JSON.stringify(created));
      else console.log(`created organization ${created.id} (${created.name})`);
    });

  org
    .command('list')
    .description('List organizations')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { json?: boolean }) => {
      const rows = await withAdminPool((pool) => listOrganizations(pool));
      printRows(rows, opts.json, COLUMNS);
    });
}
