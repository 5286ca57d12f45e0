import type { QuestionConfiguration, QuestionPriority } from './questions.js';

/**
 * Which questions one customer's survey call asks. Deterministic: the same questions,
 * customer number, budget and date give the same selection, and every question is either
 * selected or skipped with its reason. Bump the version when the rules below change, so a
 * logged selection says which rules made it.
 */
export const SELECTION_ALGORITHM = 'priority-frequency-fit/v1';

/** Spoken question text at 150 words a minute, a calm telephone pace for both languages. */
export const SPEAKING_WORDS_PER_SECOND = 2.5;
/** Answers take this long unless the question allows less (its max_response_time). */
export const EXPECTED_ANSWER_SECONDS = 20;
/** Consent question, greeting and goodbye: said on every call, reserved before any question. */
export const FRAME_SECONDS = 15;
export const MIN_BUDGET_SECONDS = 60;
export const MAX_BUDGET_SECONDS = 120;
export const DEFAULT_BUDGET_SECONDS = 90;

const priorityRank: Record<QuestionPriority, number> = { high: 0, medium: 1, low: 2 };

export interface SelectionRequest {
  /** The business's running customer number: question with frequency F is due when F divides it. */
  customerCount: number;
  budgetSeconds?: number;
  /** YYYY-MM-DD in the business's zone. */
  date: string;
  /** Only questions tagged with one of these departments (all when absent). */
  departments?: readonly string[];
}

export interface SkippedQuestion {
  id: string;
  reason: string;
}

export interface QuestionSelection {
  selected: string[];
  estimated_duration: number;
  time_budget_seconds: number;
  algorithm: string;
  skipped: SkippedQuestion[];
  /** What the decision rested on, as question_selection_logs.selection_criteria keeps it. */
  criteria: {
    customer_count: number;
    date: string;
    departments: string[] | null;
    frame_seconds: number;
    speaking_words_per_second: number;
    expected_answer_seconds: number;
    estimates: Record<string, number>;
  };
}

export class SelectionError extends Error {}

/** Seconds one question is expected to take: its text spoken, then the caller's answer. */
export function estimateQuestionSeconds(question: QuestionConfiguration): number {
  const words = question.question_text.split(/\s+/).filter(Boolean).length;
  const speaking = Math.ceil(words / SPEAKING_WORDS_PER_SECOND);
  return speaking + Math.min(EXPECTED_ANSWER_SECONDS, question.max_response_time);
}

export function validateSelectionRequest(
  request: SelectionRequest,
): Required<Omit<SelectionRequest, 'departments'>> {
  const budget = request.budgetSeconds ?? DEFAULT_BUDGET_SECONDS;
  if (!Number.isInteger(budget) || budget < MIN_BUDGET_SECONDS || budget > MAX_BUDGET_SECONDS) {
    throw new SelectionError(
      `time budget must be a whole number of seconds from ${MIN_BUDGET_SECONDS} to ${MAX_BUDGET_SECONDS} (got ${request.budgetSeconds})`,
    );
  }
  if (!Number.isInteger(request.customerCount) || request.customerCount < 1) {
    throw new SelectionError(`customer count must be a positive whole number (got ${request.customerCount})`);
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(request.date) || Number.isNaN(Date.parse(`${request.date}T00:00:00Z`))) {
    throw new SelectionError(`date must be YYYY-MM-DD (got ${request.date})`);
  }
  return { customerCount: request.customerCount, budgetSeconds: budget, date: request.date };
}

/** Why a question cannot be asked today to this customer, or null when it is due. */
function ineligibility(question: QuestionConfiguration, request: SelectionRequest): string | null {
  if (!question.is_active) return 'inactive';
  if (question.active_from && request.date < question.active_from) {
    return `not active before ${question.active_from}`;
  }
  if (question.active_until && request.date > question.active_until) {
    return `expired on ${question.active_until}`;
  }
  if (request.departments && !question.department_tags.some((tag) => request.departments!.includes(tag))) {
    return `not tagged for ${request.departments.join(', ')}`;
  }
  if (request.customerCount % question.frequency !== 0) {
    return `frequency ${question.frequency}: customer ${request.customerCount} is not a multiple`;
  }
  return null;
}

/** Higher priority first; then the question that has waited longest; then the older id. */
function compareDue(left: QuestionConfiguration, right: QuestionConfiguration): number {
  const byPriority = priorityRank[left.priority] - priorityRank[right.priority];
  if (byPriority !== 0) return byPriority;
  const leftAsked = left.last_asked_at ? Date.parse(left.last_asked_at) : Number.NEGATIVE_INFINITY;
  const rightAsked = right.last_asked_at ? Date.parse(right.last_asked_at) : Number.NEGATIVE_INFINITY;
  if (leftAsked !== rightAsked) return leftAsked < rightAsked ? -1 : 1;
  return left.id < right.id ? -1 : left.id > right.id ? 1 : 0;
}

export function selectQuestions(
  questions: readonly QuestionConfiguration[],
  request: SelectionRequest,
): QuestionSelection {
  const { customerCount, budgetSeconds, date } = validateSelectionRequest(request);
  const skipped: SkippedQuestion[] = [];
  const due: QuestionConfiguration[] = [];
  const estimates: Record<string, number> = {};
  for (const question of questions) {
    estimates[question.id] = estimateQuestionSeconds(question);
    const reason = ineligibility(question, request);
    if (reason) skipped.push({ id: question.id, reason });
    else due.push(question);
  }
  // First fit in due order: a long question that does not fit leaves room for a shorter one.
  const selected: string[] = [];
  let estimated = FRAME_SECONDS;
  for (const question of [...due].sort(compareDue)) {
    const seconds = estimates[question.id]!;
    if (estimated + seconds <= budgetSeconds) {
      selected.push(question.id);
      estimated += seconds;
    } else {
      skipped.push({ id: question.id, reason: `needs ${seconds} s, ${budgetSeconds - estimated} s left` });
    }
  }
  return {
    selected,
    estimated_duration: estimated,
    time_budget_seconds: budgetSeconds,
    algorithm: SELECTION_ALGORITHM,
    skipped,
    criteria: {
      customer_count: customerCount,
      date,
      departments: request.departments ? [...request.departments] : null,
      frame_seconds: FRAME_SECONDS,
      speaking_words_per_second: SPEAKING_WORDS_PER_SECOND,
      expected_answer_seconds: EXPECTED_ANSWER_SECONDS,
      estimates,
    },
  };
}
