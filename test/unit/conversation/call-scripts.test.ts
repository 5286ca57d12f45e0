import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCallScript, parseCallScript, runScriptAsText } from '../../../agents/call-scripts.js';
import { seededRandom } from './helpers.js';

const DIR = join(import.meta.dirname, '../../fixtures/calls');
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const outcomes: { name: string; ok: boolean; turns: number }[] = [];

describe('caller scripts at text level (test/fixtures/calls)', () => {
  it('has the scenarios the audio simulator needs', () => {
    for (const name of [
      'happy-path',
      'correction',
      'out-of-order',
      'reschedule',
      'cancel',
      'human-handoff',
      'silence-timeouts',
      'barge-in-readback',
    ]) {
      expect(files).toContain(`${name}.yaml`);
    }
  });

  it.each(files)('%s reaches its expected outcome', async (file) => {
    const script = await loadCallScript(join(DIR, file));
    for (const turn of script.turns) {
      // Spoken like STT output: lowercase words, no digits.
      if ('say' in turn) expect(turn.say).toMatch(/^[a-z' ]+$/);
    }
    const result = await runScriptAsText(script, { random: seededRandom(11) });
    outcomes.push({ name: file, ok: result.failures.length === 0, turns: result.exchanges.length - 1 });
    const transcript = result.exchanges
      .map((e) => `  caller: ${e.input}\n  agent:  ${e.reply.text}`)
      .join('\n');
    expect(result.failures, `${file}\n${transcript}`).toEqual([]);
  });

  it('rejects malformed scripts with a reason', () => {
    expect(() => parseCallScript('flow: nope\nnow: x\nturns: []\nexpect: {}')).toThrow(
      /flow: must be one of/,
    );
    expect(() =>
      parseCallScript(
        'flow: appointment-booking\nnow: "2025-03-05T15:00:00Z"\nturns: [{ shout: hi }]\nexpect: { final_state: x, appointment: false }',
      ),
    ).toThrow(/turns/);
  });

  afterAll(() => {
    const ok = outcomes.filter((o) => o.ok).length;
    console.log(
      `text-level task success: ${ok}/${outcomes.length}\n${outcomes.map((o) => `  ${o.ok ? 'ok  ' : 'FAIL'} ${o.name} (${o.turns} caller turns)`).join('\n')}`,
    );
  });
});
