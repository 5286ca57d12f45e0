import type fc from 'fast-check';

/**
 * Property runs for the fuzz suite. In `npm test`: a fixed seed and a bounded number of runs,
 * so failures reproduce and the suite stays fast. `npm run fuzz` sets FUZZ_RUNS high and
 * FUZZ_SEED=random; the seed in use is printed so a failure can be replayed with FUZZ_SEED=<n>.
 */
const seedSetting = process.env.FUZZ_SEED ?? '42';
export const FUZZ_SEED = seedSetting === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(seedSetting);
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 150);
if (process.env.FUZZ_RUNS) console.log(`fuzz: seed ${FUZZ_SEED}, ${FUZZ_RUNS} runs per property`);

export const fuzzParams: fc.Parameters<unknown> = { seed: FUZZ_SEED, numRuns: FUZZ_RUNS, endOnFailure: true };

/** A rejection is clear: one of the parser's own error types, with a message. */
export function expectClearRejection(err: unknown, types: Array<new (...args: never[]) => Error>): void {
  if (!types.some((t) => err instanceof t)) {
    throw new Error(`crashed instead of a clear rejection: ${(err as Error)?.stack ?? String(err)}`);
  }
  if (!(err as Error).message || (err as Error).message.length < 5)
    throw new Error('rejection without a message');
}

/** Runs `parse`; any throw must be a clear rejection. */
export function parsesOrRejects(parse: () => unknown, types: Array<new (...args: never[]) => Error>): void {
  try {
    parse();
  } catch (err) {
    expectClearRejection(err, types);
  }
}
