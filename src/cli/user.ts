import type { Command } from 'commander';
import { generatePassword } from '../control/passwords.js';
import { createUser, listUsers, parseRole } from '../control/users.js';
import { cliActor, printRows, readStdin, requireUuid, withAdminPool } from './control-common.js';

const COLUMNS = ['id', 'email', 'role', 'is_active', 'created_at'];

interface CreateOptions {
  org: string;
  email: string;
  role: string;
  firstName?: string;
  lastName?: string;
  passwordStdin?: boolean;
  json?: boolean;
}

/** `voice-agent user create|list`: console users of an organization, audited. */
export function registerUser(program: Command): void {
  const user = program.command('user').description("Create and list an organization's users");

  user
    .command('create')
    .description('Create a user (without --password-stdin a random password is printed once)')
    .requiredOption('--org <id>', 'organization id')
    .requiredOption('--email <email>', 'login email')
    .requiredOption('--role <role>', 'owner, admin, analyst or agent')
    .option('--first-name <name>')
    .option('--last-name <name>')
    .option('--password-stdin', 'read the password from standard input')
    .option('--json', 'print the user as JSON')
    .action(async (opts: CreateOptions) => {
      const organizationId = requireUuid(opts.org, '--org');
      const role = parseRole(opts.role);
      const generated = opts.passwordStdin ? undefined : generatePassword();
      const password = generated ?? (await readStdin());
      const created = await withAdminPool((pool) =>
        createUser(pool, cliActor(), {
          organizationId,
          email: opts.email,
          password,
          role,
          ...(opts.firstName ? { firstName: opts.firstName } : {}),
          ...(opts.lastName ? { lastName: opts.lastName } : {}),
        }),
      );
      if (opts.json)
        console.log(JSON.stringify({ ...created, ...(generated ? { password: generated } : {}) }));
      else {
        console.log(`created user ${created.id} (${created.email}, ${created.role})`);
        if (generated) console.log(`password (shown once): ${generated}`);
      }
    });

  user
    .command('list')
    .description("List an organization's users")
    .requiredOption('--org <id>', 'organization id')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { org: string; json?: boolean }) => {
      const organizationId = requireUuid(opts.org, '--org');
      printRows(await withAdminPool((pool) => listUsers(pool, organizationId)), opts.json, COLUMNS);
    });
}
