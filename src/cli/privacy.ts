import type { Command } from 'commander';
import type pg from 'pg';
import { flowPackages } from '../../agents/index.js';
import { loadConfig } from '../config/config.js';
import { recordAudit } from '../control/audit.js';
import { DEFAULT_ORGANIZATION_ID } from '../events/model.js';
import { createPool } from '../persistence/db.js';
import { PiiKeyRing } from '../persistence/pii.js';
import { flowSealedColumns, rotatePii } from '../persistence/pii-rotate.js';
import { erasePerson, exportPerson, type PrivacyStores } from '../persistence/privacy.js';
import { withOrganization } from '../persistence/tenant-scope.js';
import { cliActor } from './control-common.js';

/** `voice-agent pii rotate` and `voice-agent privacy export|erase --phone …`. */

interface PersonOptions {
  phone: string;
  org?: string;
}

function usage(message: string): Error {
  return Object.assign(new Error(message), { name: 'UsageError' });
}

function checkPerson(opts: PersonOptions): void {
  if (!/\d{5,}/.test(opts.phone.replace(/\D/g, '')))
    throw usage('--phone must be a phone number, e.g. +15550102000');
  if (opts.org && !/^[0-9a-f-]{36}$/i.test(opts.org)) throw usage('--org must be an organization id (UUID)');
}

/**
 * Appends the command's audit row. A command limited to one organization is audited there;
 * one across the deployment (a key rotation, an erasure without --org) in the default
 * organization, the operator's own. Rows name hashes and counts, never a number.
 */
async function audit(
  pool: pg.Pool,
  entry: { organizationId?: string | undefined; action: string; entityType: string; entityId: string },
  metadata: Record<string, unknown>,
): Promise<void> {
  const organizationId = entry.organizationId ?? DEFAULT_ORGANIZATION_ID;
  const scope = entry.organizationId ? 'organization' : 'deployment';
  await withOrganization(pool, organizationId, (client) =>
    recordAudit(client, { ...entry, organizationId, actor: cliActor(), metadata: { scope, ...metadata } }),
  );
}

/** Every registered flow's tables holding personal data. */
const flowPersonalTables = () => flowPackages.flatMap((pkg) => pkg.personalData ?? []);

async function withStores<T>(run: (stores: PrivacyStores) => Promise<T>): Promise<T> {
  const cfg = loadConfig();
  const pool = createPool(cfg.DATABASE_URL, { max: 2 });
  try {
    return await run({
      pool,
      ring: PiiKeyRing.fromConfig(cfg),
      redis: { connection: { url: cfg.REDIS_URL }, eventQueue: cfg.EVENT_QUEUE },
      journalDir: cfg.EVENT_JOURNAL_DIR,
      flowTables: flowPersonalTables(),
    });
  } finally {
    await pool.end();
  }
}

export function registerPrivacy(program: Command): void {
  program
    .command('pii')
    .description('Personal-data key ring')
    .command('rotate')
    .description('Re-seal every stored ciphertext under PII_ACTIVE_KEY (old keys must still be in PII_KEYS)')
    .action(() =>
      withStores(async ({ pool, ring }) => {
        const counts = await rotatePii(pool, ring, flowSealedColumns(flowPersonalTables()));
        for (const c of counts) {
          console.log(
            `${`${c.table}.${c.column}`.padEnd(40)} rotated ${c.rotated}, unreadable ${c.unreadable}`,
          );
        }
        const unreadable = counts.reduce((n, c) => n + c.unreadable, 0);
        await audit(
          pool,
          { action: 'rotated', entityType: 'pii_key', entityId: ring.activeKeyId },
          { counts },
        );
        if (unreadable > 0) {
          console.error(`${unreadable} value(s) open with no key in the ring; left untouched`);
          process.exitCode = 1;
        }
      }),
    );

  const privacy = program
    .command('privacy')
    .description("One person's data: export or erase (by phone number)");
  privacy
    .command('export')
    .description('Print every stored row about the caller with this number as JSON')
    .requiredOption('--phone <number>', 'their phone number, e.g. +15550102000')
    .option('--org <id>', 'only this organization')
    .action((opts: PersonOptions) => {
      checkPerson(opts);
      return withStores(async (stores) => {
        const data = await exportPerson(stores, { phone: opts.phone, organizationId: opts.org });
        console.log(JSON.stringify(data, null, 2));
        await audit(
          stores.pool,
          {
            organizationId: opts.org,
            action: 'exported',
            entityType: 'person',
            entityId: String(data.phone_hash),
          },
          { conversations: (data.conversations as unknown[]).length },
        );
      });
    });
  privacy
    .command('erase')
    .description('Delete or anonymize every row about the caller with this number; prints counts')
    .requiredOption('--phone <number>', 'their phone number, e.g. +15550102000')
    .option('--org <id>', 'only this organization')
    .action((opts: PersonOptions) => {
      checkPerson(opts);
      return withStores(async (stores) => {
        const counts = await erasePerson(stores, { phone: opts.phone, organizationId: opts.org });
        for (const [what, n] of Object.entries(counts)) console.log(`${what.padEnd(32)} ${n}`);
        const phoneHash = stores.ring.hash(opts.phone).toString('hex');
        await audit(
          stores.pool,
          { organizationId: opts.org, action: 'erased', entityType: 'person', entityId: phoneHash },
          { counts },
        );
      });
    });
}
