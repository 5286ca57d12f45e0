import { describe, expect, it } from 'vitest';
import type { Expectation } from '../../../src/contracts/expectation.js';
import { alternativesFor, applyExpectation } from '../../../src/providers/expectation-sink.js';

const digits: Expectation = { kind: 'digits', state: 'phone', slots: ['phone'], intentPhrases: [] };

// FAKE STTs: plain objects standing in for LocalSTT (has expect) and an OpenAI STT (has not).
describe('applyExpectation', () => {
  it('reaches an STT with expect(), directly or inside a fallback adapter, and skips the others', () => {
    const got: Array<Expectation | undefined> = [];
    const local = { expect: (e: Expectation | undefined) => got.push(e) };
    expect(applyExpectation(local, digits)).toBe(1);
    expect(applyExpectation({ sttInstances: [{ label: 'openai' }, local] }, undefined)).toBe(1);
    expect(applyExpectation({ label: 'openai' }, digits)).toBe(0);
    expect(applyExpectation(undefined, digits)).toBe(0);
    expect(got).toEqual([digits, undefined]);
  });
});

describe('alternativesFor', () => {
  it('asks the STT that records n-best lists, inside a fallback adapter too', () => {
    const list = [
      { text: 'four one five', confidence: 0.9 },
      { text: 'four one nine', confidence: 0.4 },
    ];
    const local = { alternativesFor: (t: string) => (t === 'four one five' ? list : undefined) };
    expect(alternativesFor({ sttInstances: [{ label: 'openai' }, local] }, 'four one five')).toBe(list);
    expect(alternativesFor(local, 'something else')).toBeUndefined();
    expect(alternativesFor({ label: 'openai' }, 'four one five')).toBeUndefined();
  });
});
