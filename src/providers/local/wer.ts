import { normalizeText } from './normalize.js';

export interface WordErrors {
  /** Words in the reference. */
  reference: number;
  substitutions: number;
  deletions: number;
  insertions: number;
  /** (S + D + I) / N; 0 for an empty reference with an empty hypothesis. */
  wer: number;
}

/**
 * Word error rate by Levenshtein alignment of normalized words (so "3:30 PM" and
 * "three thirty p m" compare equal).
 */
export function wordErrors(reference: string, hypothesis: string): WordErrors {
  const ref = normalizeText(reference);
  const hyp = normalizeText(hypothesis);
  const n = ref.length;
  const m = hyp.length;
  // dp[i][j]: [cost, S, D, I] aligning ref[0..i) with hyp[0..j)
  type Cell = [number, number, number, number];
  let prev: Cell[] = Array.from({ length: m + 1 }, (_, j) => [j, 0, 0, j] as Cell);
  for (let i = 1; i <= n; i++) {
    const cur: Cell[] = [[i, 0, i, 0]];
    for (let j = 1; j <= m; j++) {
      const same = ref[i - 1] === hyp[j - 1];
      const diag = prev[j - 1]!;
      const up = prev[j]!;
      const left = cur[j - 1]!;
      const options: Cell[] = [
        [diag[0] + (same ? 0 : 1), diag[1] + (same ? 0 : 1), diag[2], diag[3]],
        [up[0] + 1, up[1], up[2] + 1, up[3]],
        [left[0] + 1, left[1], left[2], left[3] + 1],
      ];
      options.sort((a, b) => a[0] - b[0]);
      cur.push(options[0]!);
    }
    prev = cur;
  }
  const [cost, substitutions, deletions, insertions] = prev[m]!;
  return { reference: n, substitutions, deletions, insertions, wer: n === 0 ? (m === 0 ? 0 : 1) : cost / n };
}

/** Pooled WER over many utterances: total errors / total reference words. */
export function pooledWer(results: readonly WordErrors[]): number {
  let errors = 0;
  let words = 0;
  for (const r of results) {
    errors += r.substitutions + r.deletions + r.insertions;
    words += r.reference;
  }
  return words === 0 ? 0 : errors / words;
}
