import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSurveySelect } from '../../../agents/feedback-survey/select-command.js';
import { UsageError } from '../../../src/util/usage-error.js';

const dir = mkdtempSync(join(tmpdir(), 'survey-select-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function questionsFile(body: string): string {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, body);
  return path;
}

const swedish = questionsFile(`
questions:
  - id: kassa
    question_text: Hur upplevde du servicen i kassan idag?
    frequency: 2
    priority: high
    department_tags: [kassa]
    max_response_time: 20
  - id: bageri
    question_text: Vad tyckte du om utbudet i bageriet?
    frequency: 5
    priority: medium
    department_tags: [bageri]
  - id: sommar
    question_text: Vad tyckte du om sommarens kampanj?
    frequency: 1
    priority: low
    department_tags: [kampanj]
    active_until: 2026-08-31
`);

describe('survey select', () => {
  it('selects from a YAML file by frequency and date, with the seed field names in its answer', async () => {
    const selection = await runSurveySelect({ questions: swedish, customerCount: '10', date: '2026-12-07' });
    expect(selection).toMatchObject({
      selected: ['kassa', 'bageri'],
      time_budget_seconds: 90,
      algorithm: 'priority-frequency-fit/v1',
      skipped: [{ id: 'sommar', reason: 'expired on 2026-08-31' }],
    });
    expect(selection.estimated_duration).toBeLessThanOrEqual(90);
    const odd = await runSurveySelect({
      questions: swedish,
      customerCount: '7',
      date: '2026-06-01',
      budget: '60',
    });
    expect(odd.selected).toEqual(['sommar']);
  });

  it('refuses a budget outside 60–120 s, a bad count, both sources or none, and a broken file', async () => {
    const base = { questions: swedish, customerCount: '4', date: '2026-12-07' };
    await expect(runSurveySelect({ ...base, budget: '121' })).rejects.toThrow(/60 to 120/);
    await expect(runSurveySelect({ ...base, budget: '59' })).rejects.toBeInstanceOf(UsageError);
    await expect(runSurveySelect({ ...base, customerCount: 'ten' })).rejects.toThrow(/whole number/);
    await expect(runSurveySelect({ ...base, customerCount: '0' })).rejects.toThrow(/positive/);
    await expect(
      runSurveySelect({ ...base, business: '8d0c1f2e-0000-4000-8000-000000000000' }),
    ).rejects.toThrow(/exactly one/);
    await expect(runSurveySelect({ customerCount: '4' })).rejects.toThrow(/exactly one/);
    await expect(runSurveySelect({ ...base, questions: join(dir, 'missing.yaml') })).rejects.toThrow(
      /cannot read/,
    );
    const broken = questionsFile('questions:\n  - id: x\n    question_text: too short\n    frequency: 3\n');
    await expect(runSurveySelect({ ...base, questions: broken })).rejects.toThrow(
      /question x: question_text/,
    );
    await expect(runSurveySelect({ customerCount: '4', business: 'shop-1' })).rejects.toThrow(/UUID/);
  });

  it("reads a business's questions through the loader it is given", async () => {
    const business = '8d0c1f2e-0000-4000-8000-000000000000';
    const asked: string[] = [];
    const selection = await runSurveySelect(
      { business, customerCount: '3', date: '2026-12-07' },
      async (id) => {
        asked.push(id);
        return [];
      },
    );
    expect(asked).toEqual([business]);
    expect(selection.selected).toEqual([]);
  });
});
