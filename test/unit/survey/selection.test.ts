import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseQuestions, type QuestionConfiguration } from '../../../agents/feedback-survey/questions.js';
import {
  estimateQuestionSeconds,
  FRAME_SECONDS,
  SelectionError,
  selectQuestions,
} from '../../../agents/feedback-survey/selection.js';

const words = ['hur', 'var', 'ditt', 'besök', 'how', 'was', 'the', 'service', 'today', 'staff', 'friendly'];

const dateArb = fc
  .date({ min: new Date('2026-01-01T00:00:00Z'), max: new Date('2027-12-31T00:00:00Z'), noInvalidDate: true })
  .map((date) => date.toISOString().slice(0, 10));

const questionArb = (index: number) =>
  fc
    .record({
      question_text: fc
        .array(fc.constantFrom(...words), { minLength: 3, maxLength: 60 })
        .map((list) => `${list.join(' ')}?`),
      frequency: fc.integer({ min: 1, max: 100 }),
      priority: fc.constantFrom('high', 'medium', 'low'),
      department_tags: fc.array(fc.constantFrom('kassa', 'bageri', 'service'), {
        minLength: 1,
        maxLength: 3,
      }),
      window: fc.option(fc.tuple(dateArb, dateArb), { nil: null }),
      is_active: fc.boolean(),
      max_response_time: fc.integer({ min: 1, max: 60 }),
      last_asked_at: fc.option(
        dateArb.map((day) => `${day}T12:00:00Z`),
        { nil: null },
      ),
    })
    .map(({ window, ...rest }) => {
      const [from, until] = window ? [window[0], window[1]].sort() : [null, null];
      return { id: `q${index}`, ...rest, active_from: from, active_until: until };
    });

const questionsArb = fc
  .integer({ min: 0, max: 12 })
  .chain((count) => fc.tuple(...Array.from({ length: count }, (_, index) => questionArb(index))))
  .map((raw) => (raw.length ? parseQuestions(raw) : []));

const requestArb = fc.record({
  customerCount: fc.integer({ min: 1, max: 10_000 }),
  budgetSeconds: fc.integer({ min: 60, max: 120 }),
  date: dateArb,
});

function byId(questions: QuestionConfiguration[]) {
  return new Map(questions.map((question) => [question.id, question]));
}

describe('survey question selection', () => {
  it('never estimates over the budget, and the estimate is the frame plus the selected questions', () => {
    fc.assert(
      fc.property(questionsArb, requestArb, (questions, request) => {
        const selection = selectQuestions(questions, request);
        const questionsById = byId(questions);
        const sum = selection.selected.reduce(
          (total, id) => total + estimateQuestionSeconds(questionsById.get(id)!),
          FRAME_SECONDS,
        );
        expect(selection.estimated_duration).toBe(sum);
        expect(selection.estimated_duration).toBeLessThanOrEqual(request.budgetSeconds);
      }),
    );
  });

  it('chooses only active, in-window questions whose frequency divides the customer number', () => {
    fc.assert(
      fc.property(questionsArb, requestArb, (questions, request) => {
        const questionsById = byId(questions);
        for (const id of selectQuestions(questions, request).selected) {
          const question = questionsById.get(id)!;
          expect(question.is_active).toBe(true);
          expect(request.customerCount % question.frequency).toBe(0);
          if (question.active_from) expect(request.date >= question.active_from).toBe(true);
          if (question.active_until) expect(request.date <= question.active_until).toBe(true);
        }
      }),
    );
  });

  it('accounts for every question exactly once, and is deterministic under reordering', () => {
    fc.assert(
      fc.property(questionsArb, requestArb, (questions, request) => {
        const selection = selectQuestions(questions, request);
        const accounted = [...selection.selected, ...selection.skipped.map((skip) => skip.id)].sort();
        expect(accounted).toEqual(questions.map((question) => question.id).sort());
        const again = selectQuestions([...questions].reverse(), request);
        expect(again.selected).toEqual(selection.selected);
        expect(again.estimated_duration).toBe(selection.estimated_duration);
      }),
    );
  });

  it('leaves out for time only what does not fit, and asks a high-priority question whenever one fits', () => {
    fc.assert(
      fc.property(questionsArb, requestArb, (questions, request) => {
        const selection = selectQuestions(questions, request);
        const questionsById = byId(questions);
        const left = request.budgetSeconds - selection.estimated_duration;
        for (const skip of selection.skipped.filter((entry) => entry.reason.startsWith('needs'))) {
          expect(estimateQuestionSeconds(questionsById.get(skip.id)!)).toBeGreaterThan(left);
        }
        const dueHighThatFits = questions.some(
          (question) =>
            question.priority === 'high' &&
            !selection.skipped.some((skip) => skip.id === question.id && !skip.reason.startsWith('needs')) &&
            FRAME_SECONDS + estimateQuestionSeconds(question) <= request.budgetSeconds,
        );
        const askedHigh = selection.selected.some((id) => questionsById.get(id)!.priority === 'high');
        if (dueHighThatFits) expect(askedHigh).toBe(true);
      }),
    );
  });

  it('puts high priority before low, and the longest-waiting first within a priority', () => {
    const questions = parseQuestions([
      {
        id: 'low',
        question_text: 'Would you visit us again soon?',
        frequency: 1,
        priority: 'low',
        department_tags: ['all'],
      },
      {
        id: 'high-recent',
        question_text: 'How was the service at the checkout?',
        frequency: 1,
        priority: 'high',
        department_tags: ['kassa'],
        last_asked_at: '2026-12-01T10:00:00Z',
      },
      {
        id: 'high-waiting',
        question_text: 'How fresh was the bread in the bakery?',
        frequency: 1,
        priority: 'high',
        department_tags: ['bageri'],
        last_asked_at: '2026-11-01T10:00:00Z',
      },
    ]);
    const selection = selectQuestions(questions, { customerCount: 7, budgetSeconds: 90, date: '2026-12-07' });
    expect(selection.selected).toEqual(['high-waiting', 'high-recent', 'low']);
    const tight = selectQuestions(questions, { customerCount: 7, budgetSeconds: 60, date: '2026-12-07' });
    expect(tight.selected).toEqual(['high-waiting']);
    expect(tight.skipped.map((skip) => skip.id)).toEqual(['high-recent', 'low']);
  });

  it('skips by frequency and window with the reason, and refuses a budget outside 60–120 s', () => {
    const questions = parseQuestions([
      {
        id: 'every-third',
        question_text: 'How was the queue today?',
        frequency: 3,
        priority: 'medium',
        department_tags: ['kassa'],
      },
      {
        id: 'summer',
        question_text: 'How did you like the summer menu?',
        frequency: 1,
        priority: 'high',
        department_tags: ['cafe'],
        active_from: '2026-06-01',
        active_until: '2026-08-31',
      },
    ]);
    const selection = selectQuestions(questions, { customerCount: 4, date: '2026-12-07' });
    expect(selection.selected).toEqual([]);
    expect(selection.time_budget_seconds).toBe(90);
    expect(Object.fromEntries(selection.skipped.map((skip) => [skip.id, skip.reason]))).toEqual({
      'every-third': 'frequency 3: customer 4 is not a multiple',
      summer: 'expired on 2026-08-31',
    });
    expect(() =>
      selectQuestions(questions, { customerCount: 3, budgetSeconds: 45, date: '2026-12-07' }),
    ).toThrow(SelectionError);
    expect(() => selectQuestions(questions, { customerCount: 0, date: '2026-12-07' })).toThrow(/positive/);
  });

  it('refuses questions that break the seed rules, naming the question and field', () => {
    const valid = {
      id: 'a',
      question_text: 'How was your visit today?',
      frequency: 2,
      priority: 'high',
      department_tags: ['x'],
    };
    expect(() => parseQuestions([{ ...valid, question_text: 'Short?' }])).toThrow(
      /question a: question_text/,
    );
    expect(() => parseQuestions([{ ...valid, frequency: 101 }])).toThrow(/frequency: 1–100/);
    expect(() => parseQuestions([{ ...valid, department_tags: [] }])).toThrow(/department_tags/);
    expect(() =>
      parseQuestions([{ ...valid, active_from: '2026-05-02', active_until: '2026-05-01' }]),
    ).toThrow(/active_from must not be after active_until/);
    expect(() => parseQuestions([valid, valid])).toThrow(/id repeated/);
  });
});
