import type { Expectation } from '../contracts/expectation.js';

interface ExpectingSTT {
  expect(expectation: Expectation | undefined): void;
}

const canExpect = (s: unknown): s is ExpectingSTT =>
  typeof (s as Partial<ExpectingSTT> | undefined)?.expect === 'function';

/**
 * Tells the session's STT what the conversation waits for next, so the offline recognizer
 * switches search (digits, date/time, confirm, …) before the caller's next words. Reaches the
 * local STT directly or inside a FallbackAdapter; STTs without `expect` are left alone.
 * Returns how many STTs took it.
 */
export function applyExpectation(sttInstance: unknown, expectation: Expectation | undefined): number {
  if (canExpect(sttInstance)) {
    sttInstance.expect(expectation);
    return 1;
  }
  const children = (sttInstance as { sttInstances?: unknown[] } | undefined)?.sttInstances ?? [];
  let n = 0;
  for (const child of children) n += applyExpectation(child, expectation);
  return n;
}

type Alternatives = ReadonlyArray<{ text: string; confidence: number }>;

interface AlternativesSTT {
  alternativesFor(text: string): Alternatives | undefined;
}

/**
 * The n-best list the session's STT gave for the final transcript `text` (the framework hands
 * the engine only the text), found like {@link applyExpectation} finds the local STT.
 */
export function alternativesFor(sttInstance: unknown, text: string): Alternatives | undefined {
  const direct = sttInstance as Partial<AlternativesSTT> | undefined;
  if (typeof direct?.alternativesFor === 'function') return direct.alternativesFor(text);
  const children = (sttInstance as { sttInstances?: unknown[] } | undefined)?.sttInstances ?? [];
  for (const child of children) {
    const found = alternativesFor(child, text);
    if (found) return found;
  }
  return undefined;
}
