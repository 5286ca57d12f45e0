import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../config/config.js';
import { serviceDatabaseUrl } from '../config/service-database.js';
import { DEFAULT_ORGANIZATION_ID } from '../events/model.js';
import { type ComplianceDecision, checkCompliance } from '../outbound/compliance/check.js';
import { contactSchema } from '../outbound/compliance/contact.js';
import {
  CHANNELS,
  type Channel,
  ComplianceRuleError,
  parseComplianceRules,
} from '../outbound/compliance/rules.js';
import { loadContact, loadRules, UnknownCustomerError } from '../outbound/compliance/store.js';
import { createPool } from '../persistence/db.js';
import { withOrganization } from '../persistence/tenant-scope.js';
import { requireUuid, UsageError } from './control-common.js';

interface CheckOptions {
  customer?: string;
  org?: string;
  contact?: string;
  rules?: string;
  at?: string;
  channel: string;
  json?: boolean;
}

function readYaml(path: string, what: string): unknown {
  try {
    return parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`${what} ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** The decision for a contact file and rules file, or a stored customer and their organization's rules. */
export async function runComplianceCheck(options: CheckOptions): Promise<ComplianceDecision> {
  const at = options.at ? new Date(options.at) : new Date();
  if (Number.isNaN(at.getTime())) throw new UsageError(`--at must be an ISO instant (got "${options.at}")`);
  if (!(CHANNELS as readonly string[]).includes(options.channel))
    throw new UsageError(`--channel must be one of ${CHANNELS.join(', ')}`);
  const channel = options.channel as Channel;
  if (Boolean(options.customer) === Boolean(options.contact)) {
    throw new UsageError('give --customer ID, or --contact CONTACT.yaml with --rules RULES.yaml');
  }
  if (options.contact) {
    if (!options.rules) throw new UsageError('--contact needs --rules RULES.yaml');
    const contact = contactSchema.safeParse(readYaml(options.contact, 'contact'));
    if (!contact.success) {
      const issue = contact.error.issues[0]!;
      throw new UsageError(`${options.contact}: ${issue.path.join('.') || '(contact)'}: ${issue.message}`);
    }
    try {
      return checkCompliance(contact.data, parseComplianceRules(readYaml(options.rules, 'rules')), {
        at,
        channel,
      });
    } catch (err) {
      if (err instanceof ComplianceRuleError) throw new UsageError(`${options.rules}: ${err.message}`);
      throw err;
    }
  }
  const customerId = requireUuid(options.customer!, '--customer');
  const organizationId = options.org ? requireUuid(options.org, '--org') : DEFAULT_ORGANIZATION_ID;
  // As a dialler sees it: the worker's role, scoped to the organization.
  const pool = createPool(serviceDatabaseUrl(loadConfig(), 'worker'), { max: 1 });
  try {
    return await withOrganization(pool, organizationId, async (client) =>
      checkCompliance(await loadContact(client, customerId, at), await loadRules(client), { at, channel }),
    );
  } catch (err) {
    if (err instanceof UnknownCustomerError || err instanceof ComplianceRuleError)
      throw new UsageError(err.message);
    throw err;
  } finally {
    await pool.end();
  }
}

/** `voice-agent compliance check`: may this customer be contacted at this instant, and if not, when. */
export function registerCompliance(program: Command): void {
  const compliance = program.command('compliance').description('outbound contact compliance (seed 004)');
  compliance
    .command('check')
    .description('whether a contact is allowed now (or --at), which rules stop it, and when it next may be')
    .option(
      '--customer <id>',
      "a stored customer: their profile, opt-outs, attempts and their organization's rules",
    )
    .option('--org <id>', "the customer's organization (default: the default organization)")
    .option(
      '--contact <file>',
      'a customer as YAML (seed 004 field names: timezone, do_not_contact, opt_outs, contact_attempts, …)',
    )
    .option('--rules <file>', 'compliance rules as YAML (a list of compliance_rules rows)')
    .option('--at <iso>', 'the instant of the contact (default now)')
    .option('--channel <channel>', `${CHANNELS.join(', ')}`, 'phone')
    .option('--json', 'print JSON')
    .action(async (options: CheckOptions) => {
      const decision = await runComplianceCheck(options);
      const { allowed, blocked_by, next_allowed_at } = decision;
      if (options.json) {
        console.log(JSON.stringify(decision));
      } else {
        console.log(
          allowed ? 'allowed' : `blocked by ${[...blocked_by, ...decision.approval_required].join(', ')}`,
        );
        for (const violation of decision.violations)
          console.log(`  ${violation.rule} (${violation.action}): ${violation.reason}`);
        console.log(`next allowed: ${next_allowed_at ?? 'not by waiting'}`);
      }
      if (!allowed) process.exitCode = 2;
    });
}
