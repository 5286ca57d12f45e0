import type { Command } from 'commander';
import { createApiKey, listApiKeys, revokeApiKey } from '../control/api-key-store.js';
import { parsePermissions } from '../control/api-keys.js';
import { cliActor, printRows, requireUuid, UsageError, withAdminPool } from './control-common.js';

const COLUMNS = ['id', 'key_prefix', 'name', 'permissions', 'expires_at', 'revoked_at', 'last_used_at'];

interface CreateOptions {
  org: string;
  name: string;
  permissions: string;
  expiresInDays?: string;
  json?: boolean;
}

/** `voice-agent apikey create|list|revoke`: an organization's API keys, audited. */
export function registerApiKey(program: Command): void {
  const apikey = program.command('apikey').description("Create, list and revoke an organization's API keys");

  apikey
    .command('create')
    .description('Create a key and print it (shown this once; only its hash is stored)')
    .requiredOption('--org <id>', 'organization id')
    .requiredOption('--name <name>', 'what the key is for')
    .option('--permissions <list>', 'comma-separated, e.g. calls:read,routes:write', 'calls:read')
    .option('--expires-in-days <n>', 'expiry (default: never)')
    .option('--json', 'print key and metadata as JSON')
    .action(async (opts: CreateOptions) => {
      const organizationId = requireUuid(opts.org, '--org');
      let permissions: ReturnType<typeof parsePermissions>;
      try {
        permissions = parsePermissions(opts.permissions);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const days = opts.expiresInDays === undefined ? undefined : Number(opts.expiresInDays);
      if (days !== undefined && !(days > 0))
        throw new UsageError('--expires-in-days must be a positive number');
      const { key, info } = await withAdminPool((pool) =>
        createApiKey(pool, cliActor(), {
          organizationId,
          name: opts.name,
          permissions,
          ...(days ? { expiresAt: new Date(Date.now() + days * 86_400_000) } : {}),
        }),
      );
      if (opts.json) console.log(JSON.stringify({ key, ...info }));
      else {
        console.log(`created API key ${info.id} (${info.name})`);
        console.log(`key (shown once, store it now): ${key}`);
      }
    });

  apikey
    .command('list')
    .description("List an organization's keys (never the keys themselves)")
    .requiredOption('--org <id>', 'organization id')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { org: string; json?: boolean }) => {
      const organizationId = requireUuid(opts.org, '--org');
      printRows(await withAdminPool((pool) => listApiKeys(pool, organizationId)), opts.json, COLUMNS);
    });

  apikey
    .command('revoke')
    .description('Revoke a key')
    .requiredOption('--org <id>', 'organization id')
    .requiredOption('--id <keyId>', 'key id as shown by `apikey list`')
    .action(async (opts: { org: string; id: string }) => {
      const organizationId = requireUuid(opts.org, '--org');
      const keyId = requireUuid(opts.id, '--id');
      const revoked = await withAdminPool((pool) => revokeApiKey(pool, cliActor(), organizationId, keyId));
      if (!revoked) throw new UsageError(`organization ${organizationId} has no active key ${keyId}`);
      console.log(`revoked API key ${keyId}`);
    });
}
