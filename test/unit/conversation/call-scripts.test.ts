import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCallScript, parseCallScript, runScriptAsText } from '../../../agents/call-scripts.js';
import { flowPackages, getFlowPackage } from '../../../agents/index.js';
import { seededRandom } from './helpers.js';

/** Every registered flow's caller scripts, as paths relative to agents/. */
const scriptPaths = flowPackages.flatMap((pkg) =>
  pkg.scripts
    ? readdirSync(pkg.scripts.dir)
        .filter((f) => f.endsWith('.yaml'))
        .sort()
        .map((f) => join(pkg.scripts!.dir, f))
    : [],
);
const files = scriptPaths.map((p) => p.slice(p.lastIndexOf('/agents/') + 1));
const bookingDir = getFlowPackage('appointment-booking').scripts!.dir;
const bookingFiles = readdirSync(bookingDir);
const outcomes: { name: string; ok: boolean; turns: number }[] = [];

describe("caller scripts at text level (every flow package's calls/)", () => {
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
      expect(bookingFiles).toContain(`${name}.yaml`);
    }
  });

  it.each(files)('%s reaches its expected outcome', async (file) => {
    const script = await loadCallScript(join(import.meta.dirname, '../../..', file));
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
    // The flow's own parts are checked by its package's schemas.
    expect(() =>
      parseCallScript(
        'flow: appointment-booking\nnow: "2025-03-05T15:00:00Z"\nturns: [{ say: hi }]\nexpect: { final_state: x, booked: yes }',
      ),
    ).toThrow(/expect: Unrecognized key: "booked"|expect\.appointment/);
    expect(() =>
      parseCallScript(
        'flow: appointment-booking\nnow: "2025-03-05T15:00:00Z"\nsetup: { bookings: [{ date: tomorrow }] }\nturns: [{ say: hi }]\nexpect: { final_state: x, appointment: false }',
      ),
    ).toThrow(/setup\.bookings\.0\.date: must be YYYY-MM-DD/);
  });

  afterAll(() => {
    const ok = outcomes.filter((o) => o.ok).length;
    console.log(
      `text-level task success: ${ok}/${outcomes.length}\n${outcomes.map((o) => `  ${o.ok ? 'ok  ' : 'FAIL'} ${o.name} (${o.turns} caller turns)`).join('\n')}`,
    );
  });
});
