import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { APPOINTMENT_BOOKING_LANGUAGE } from '../../../agents/appointment-booking/vocabulary.js';
import { type Pcm, readMonoWav } from '../../../src/audio/clip.js';
import { FakeConversation } from '../../../src/pipeline/fake-conversation.js';
import { simulateCall } from '../../../src/pipeline/simulator.js';
import { FakeTTS } from '../../../src/providers/fake/index.js';
import { LocalSTT } from '../../../src/providers/local/index.js';

/**
 * Flow-aware end of turn through the real pipeline: flite speech, real silero VAD, real
 * pocketsphinx streaming recognition, the framework's turn handling; only the engine (a fake
 * port that implements completesTurn) and TTS are fakes. An answer that completes the
 * expectation ends after the short silence; an open answer keeps the long wait; no answer is
 * cut short.
 */

const dir = mkdtempSync(join(tmpdir(), 'turn-ending-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
async function flite(text: string): Promise<Pcm> {
  const path = join(dir, `say-${n++}.wav`);
  execFileSync('flite', ['-voice', 'slt', '-t', text, '-o', path]);
  return readMonoWav(path);
}

const script = { name: 'date-then-name', turns: [{ say: 'next tuesday' }, { say: 'my name is john smith' }] };

async function run(mode: 'flow' | 'fixed') {
  // The fake expects a date first (complete once a weekday is heard), then an open answer.
  const port = new FakeConversation({
    slots: ['date', 'name'],
    completesTurn: (text, state) => state === 'ask_date' && /\btuesday\b/.test(text),
  });
  const result = await simulateCall({
    port,
    script,
    synthesize: flite,
    providers: { stt: new LocalSTT({ language: APPOINTMENT_BOOKING_LANGUAGE }), tts: new FakeTTS() },
    session: { turnEnding: { mode } },
  });
  return { port, result };
}

describe('flow-aware end of turn', () => {
  it('ends a complete answer after the short silence and waits the long silence for an open one', async () => {
    const { port, result } = await run('flow');
    expect(result.errors).toEqual([]);
    // Whole answers, each one turn: nothing was cut off.
    expect(port.received.filter((r) => r.kind === 'text').map((r) => r.value)).toEqual([
      'next tuesday',
      'my name is john smith',
    ]);
    expect(port.completionChecks.some((t) => t.includes('tuesday'))).toBe(true);
    const [dateTurn, nameTurn] = result.latency.turns;
    // The date turn was committed well before the 550 ms silence the open answer waits.
    expect(dateTurn?.eou_ms).toBeLessThan(500);
    expect(dateTurn?.eou_ms).toBeLessThan(nameTurn?.eou_ms ?? 0);
    expect(nameTurn?.eou_ms).toBeGreaterThanOrEqual(500);
  }, 90_000);

  it("'fixed' keeps the framework's wait for every answer", async () => {
    const { port, result } = await run('fixed');
    expect(result.errors).toEqual([]);
    expect(port.completionChecks).toEqual([]);
    for (const turn of result.latency.turns) expect(turn.eou_ms).toBeGreaterThanOrEqual(500);
  }, 90_000);
});
