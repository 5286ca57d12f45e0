import type { Command } from 'commander';

/**
 * `voice-agent campaign create|start|pause|resume|cancel|status|worker`. Wiring only: each
 * action loads its module when it runs (the configuration module loads the registry).
 */
export function campaignCommands(program: Command): void {
  const campaign = program.command('campaign').description('payment-escalation campaigns (seed 004)');
  const actions = () => import('./campaigns/commands.js');
  campaign
    .command('create')
    .description('a draft campaign for one invoice: its escalation steps as JSON')
    .requiredOption('--org <id>', 'the organization')
    .requiredOption('--customer <id>', 'the customer')
    .requiredOption('--invoice <id>', 'the payment record')
    .requiredOption(
      '--steps <json>',
      'e.g. [{"day":0,"template":"reminder"},{"day":7},{"day":14,"template":"final"}]',
    )
    .option('--name <name>', 'campaign name (default: the invoice number)')
    .option('--start <iso>', 'when day 0 is (default now)')
    .action(async (options) => (await actions()).createAction(options));
  for (const [name, description] of [
    ['start', 'activate: each step becomes a task queued for its day'],
    ['pause', 'hold every call until resumed (or --until)'],
    ['resume', 'go on after a pause'],
    ['cancel', 'stop for good: pending tasks are cancelled'],
  ] as const) {
    const command = campaign
      .command(`${name} <id>`)
      .description(description)
      .requiredOption('--org <id>', 'the organization');
    if (name === 'pause') command.option('--until <iso>', 'resume by itself then');
    command.action(async (id: string, options) => (await actions()).lifecycleAction(name, id, options));
  }
  campaign
    .command('status <id>')
    .description("the campaign, its results and each step's task")
    .requiredOption('--org <id>', 'the organization')
    .option('--json', 'print JSON')
    .action(async (id: string, options) => (await actions()).statusAction(id, options));
  campaign
    .command('worker')
    .description("place the campaigns' calls as their tasks fall due")
    .option('--concurrency <n>', 'calls at once', '4')
    .option('--per-minute <n>', 'calls started per minute at most', '10')
    .action(async (options) => (await actions()).workerAction(options));
}
