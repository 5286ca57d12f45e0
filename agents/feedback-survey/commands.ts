import type { Command } from 'commander';

/**
 * The package's CLI: `voice-agent survey select|call|enqueue|worker`. Only the wiring lives
 * here; each action loads its module when it runs, so registering the package (which the
 * configuration module does to learn the flow names) loads no configuration, database or
 * queue code.
 */
export function surveyCommands(program: Command): void {
  const survey = program.command('survey').description('feedback survey calls (seed 003)');
  survey
    .command('select')
    .description('which questions a customer would be asked, under the time budget')
    .option('--questions <file>', 'questions as YAML (question_configurations field names)')
    .option('--business <id>', "the business's questions from the database (its organization id)")
    .requiredOption('--customer-count <n>', "the customer's number at the business")
    .option('--budget <seconds>', 'time budget, 60–120 s (default 90)')
    .option('--date <YYYY-MM-DD>', 'the day of the call (default today)')
    .option('--json', 'print JSON')
    .action(async (options) => (await import('./select-command.js')).printSurveySelect(options));

  const visit = (command: Command) =>
    command
      .requiredOption('--business <id>', 'the business (its organization id)')
      .requiredOption('--customer <phone>', "the customer's Swedish number (+46…)")
      .option('--verification <id>', 'the verified visit (UUID; one survey per visit); default a new one')
      .option(
        '--budget <seconds>',
        "time budget for the questions, 60–120 s (default: the business's, else 90)",
      )
      .option('--json', 'print JSON');

  visit(survey.command('call'))
    .description(
      "survey one verified visit's customer now: select the questions and dial (waits for the end)",
    )
    .option('--no-wait', 'return once the call is placed')
    .action(async (options) => (await import('./call-commands.js')).surveyCallAction(options));

  visit(survey.command('enqueue'))
    .description("add a verified visit to the survey queue (what a business's system does per visit)")
    .action(async (options) => (await import('./call-commands.js')).surveyEnqueueAction(options));

  survey
    .command('worker')
    .description('place the queued survey calls, each within its business calling hours')
    .option('--concurrency <n>', 'calls at once', '4')
    .option('--per-minute <n>', 'calls started per minute at most', '10')
    .action(async (options) => (await import('./call-commands.js')).surveyWorkerAction(options));
}
