import { beforeAll, describe, expect, it } from 'vitest';
import { AMD_RATE, type AmdFixture, buildAmdSet } from '../../../bench/amd-set.js';
import {
  AnsweringMachineDetector,
  detectAnsweringMachine,
  toneOf,
} from '../../../src/audio/answering-machine.js';

/**
 * Answering-machine detection on real synthesized speech (flite and espeak-ng voices at
 * telephone rate with line noise): people who answer and wait, voicemail greetings with and
 * without a beep. bench:amd reports the same set's accuracy against a greeting-length baseline.
 */

const sine = (hz: number, ms: number, rate = AMD_RATE) =>
  Int16Array.from({ length: Math.round((rate * ms) / 1000) }, (_, i) =>
    Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / rate)),
  );

describe('answering-machine detection', () => {
  let set: AmdFixture[];
  const decide = (fixture: AmdFixture) => detectAnsweringMachine(fixture.samples, { sampleRate: AMD_RATE });
  const named = (prefix: string) => set.filter((fixture) => fixture.name.startsWith(prefix));

  beforeAll(async () => {
    set = await buildAmdSet();
  }, 120_000);

  it('hears a pure tone as a tone at its pitch, and speech as no tone', () => {
    expect(toneOf(sine(1000, 20), AMD_RATE)).toBe(1000);
    expect(toneOf(sine(850, 20), AMD_RATE)).toBe(850);
    const speechFrames = named('human-slt-1')[0]!.samples;
    let tonal = 0;
    for (let i = 0; i + 160 <= speechFrames.length; i += 160)
      if (toneOf(speechFrames.subarray(i, i + 160), AMD_RATE)) tonal++;
    expect(tonal).toBeLessThan(3);
  });

  it('takes "hello, who is this?" and a short hello then silence for a person, quickly', () => {
    for (const fixture of [...named('human-slt-'), ...named('human-awb-')]) {
      const decision = decide(fixture);
      expect(decision.answeredBy, fixture.name).toBe('human');
      expect(decision.decidedAtMs, fixture.name).toBeLessThan(4000);
    }
  });

  it('takes long voicemail greetings, beeps and a bare carrier beep for a machine', () => {
    for (const fixture of [
      ...named('machine-slt-'),
      ...named('machine-short-'),
      ...named('machine-beep-only'),
    ]) {
      expect(decide(fixture).answeredBy, fixture.name).toBe('machine');
    }
  });

  it('revises an early "person" when a beep follows a paused greeting, and says when the beep ended', () => {
    const fixture = named('machine-paused-slt-0-beep')[0]!;
    const detector = new AnsweringMachineDetector({ sampleRate: AMD_RATE });
    let first: string | undefined;
    for (let i = 0; i < fixture.samples.length; i += 800) {
      const decision = detector.push(fixture.samples.subarray(i, i + 800));
      first ??= decision?.answeredBy;
    }
    expect(first).toBe('human');
    expect(detector.decision).toMatchObject({ answeredBy: 'machine', revised: true });
    expect(detector.decision!.reason).toMatch(/^beep \d+ Hz$/);
    expect(detector.beepEndedAt).toBeGreaterThan(detector.decision!.greetingMs);
  });

  it('is right on at least 85% of the whole set, and calls dead air unknown', () => {
    const right = set.filter((fixture) => decide(fixture).answeredBy === fixture.truth).length;
    expect(set.length).toBeGreaterThanOrEqual(40);
    expect(right / set.length).toBeGreaterThanOrEqual(0.85);
    expect(detectAnsweringMachine(new Int16Array(AMD_RATE * 6), { sampleRate: AMD_RATE })).toMatchObject({
      answeredBy: 'unknown',
      reason: 'nothing said',
    });
  });
});
