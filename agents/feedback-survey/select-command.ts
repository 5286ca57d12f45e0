import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { requireUuid, UsageError, withAdminPool } from '../../src/cli/control-common.js';
import { withOrganization } from '../../src/persistence/tenant-scope.js';
import { parseQuestions, type QuestionConfiguration } from './questions.js';
import { type QuestionSelection, SelectionError, selectQuestions } from './selection.js';
import { loadBusinessQuestions } from './store/questions.js';

export interface SelectOptions {
  questions?: string;
  business?: string;
  customerCount: string;
  budget?: string;
  date?: string;
  json?: boolean;
}

function wholeNumber(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text.trim())) throw new UsageError(`${what} must be a whole number (got "${text}")`);
  return Number(text);
}

/** Today in the process's zone (TZ), as YYYY-MM-DD. */
function localToday(): string {
  return new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    new Date(),
  );
}

function readQuestionFile(path: string): QuestionConfiguration[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return parseQuestions(parseYaml(text));
  } catch (err) {
    throw new UsageError(`${path}: ${(err as Error).message}`);
  }
}

/** `survey select` as the CLI prints it. */
export async function printSurveySelect(options: SelectOptions): Promise<void> {
  const selection = await runSurveySelect(options);
  if (options.json) {
    console.log(JSON.stringify(selection));
    return;
  }
  console.log(
    `selected ${selection.selected.join(', ') || '(none)'} — about ${selection.estimated_duration} s of ${selection.time_budget_seconds} s (${selection.algorithm})`,
  );
  for (const skip of selection.skipped) console.log(`skipped ${skip.id}: ${skip.reason}`);
}

/** What `survey select` prints: the seed's selection fields (criteria go to the log table). */
export async function runSurveySelect(
  options: SelectOptions,
  load: (businessId: string) => Promise<QuestionConfiguration[]> = loadFromDatabase,
): Promise<Omit<QuestionSelection, 'criteria'>> {
  if (Boolean(options.questions) === Boolean(options.business)) {
    throw new UsageError('give exactly one of --questions FILE.yaml or --business ID');
  }
  const questions = options.questions
    ? readQuestionFile(options.questions)
    : await load(requireUuid(options.business!, '--business'));
  try {
    const { criteria: _criteria, ...selection } = selectQuestions(questions, {
      customerCount: wholeNumber(options.customerCount, '--customer-count')!,
      budgetSeconds: wholeNumber(options.budget, '--budget'),
      date: options.date ?? localToday(),
    });
    return selection;
  } catch (err) {
    if (err instanceof SelectionError) throw new UsageError(err.message);
    throw err;
  }
}

function loadFromDatabase(businessId: string): Promise<QuestionConfiguration[]> {
  return withAdminPool((pool) => withOrganization(pool, businessId, loadBusinessQuestions));
}
