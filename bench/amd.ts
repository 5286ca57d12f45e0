import { type AmdOptions, detectAnsweringMachine } from '../src/audio/answering-machine.js';
import { AMD_RATE, buildAmdSet } from './amd-set.js';

/**
 * bench:amd — answering-machine detection accuracy on the synthesized answer set
 * (bench/amd-set.ts: people and voicemail greetings in four voices, beeps at three pitches),
 * with the time each decision took. Baseline in the same run: the greeting-length rule alone
 * (no beep detection, a fixed 3 s cut-off, as simple detectors do).
 */

interface Row {
  name: string;
  truth: string;
  got: string;
  reason: string;
  decidedAtMs: number;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function report(label: string, rows: Row[]) {
  const correct = rows.filter((r) => r.got === r.truth).length;
  const of = (truth: string) => rows.filter((r) => r.truth === truth);
  const right = (truth: string) => of(truth).filter((r) => r.got === truth).length;
  const times = rows.map((r) => r.decidedAtMs);
  console.log(
    `${label.padEnd(28)} accuracy ${((100 * correct) / rows.length).toFixed(1)}% (${correct}/${rows.length})  ` +
      `human ${right('human')}/${of('human').length}  machine ${right('machine')}/${of('machine').length}  ` +
      `decided after p50 ${percentile(times, 50)} ms, p95 ${percentile(times, 95)} ms`,
  );
  for (const miss of rows.filter((r) => r.got !== r.truth))
    console.log(`    miss ${miss.name}: ${miss.got} (${miss.reason})`);
  return correct / rows.length;
}

async function main() {
  const started = performance.now();
  const set = await buildAmdSet();
  console.log(
    `bench:amd — ${set.length} answers synthesized in ${Math.round(performance.now() - started)} ms`,
  );
  const run = (options: Partial<AmdOptions>): Row[] =>
    set.map((fixture) => {
      const decision = detectAnsweringMachine(fixture.samples, { sampleRate: AMD_RATE, ...options });
      const { answeredBy: got, reason, decidedAtMs } = decision;
      return { name: fixture.name, truth: fixture.truth, got, reason, decidedAtMs };
    });
  const baseline = report('baseline (greeting ≥ 3 s)', run({ maxHumanGreetingMs: 3000, detectBeep: false }));
  const detector = report('detector (default options)', run({}));
  console.log(`detector vs baseline: ${((detector - baseline) * 100).toFixed(1)} points`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
