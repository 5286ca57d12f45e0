import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPOINTMENT_BOOKING_LANGUAGE } from '../../../agents/appointment-booking/index.js';
import { type SearchMode, SphinxRecognizer } from '../../../src/providers/local/recognizer.js';
import { pooledWer, type WordErrors, wordErrors } from '../../../src/providers/local/wer.js';
import { type Fixture, fixtureAudio, loadFixtures } from './fixtures.js';

/**
 * Word error rate of the offline recognizer over every fixture utterance, as 16 kHz PCM and as
 * 8 kHz μ-law phone audio, streamed in 20 ms chunks exactly as a call would be.
 *
 * Measured (fresh decoder per utterance, domain 3-gram, default settings):
 *   16 kHz  4.8 % overall (2.9 % on phrases the language has templates for, 23.5 % on variations)
 *   8 kHz  12.2 % overall (10.5 % / 29.4 %)
 * The JSGF grammar measured 13.8 % / 21.3 % (phrases 5.3 % / 13.5 %; it cannot follow any
 * variation) and decodes ~10× slower — re-run that comparison with SPEECH_WER_GRAMMAR=1.
 * "could we do thursday instead" holds two words outside the vocabulary on purpose.
 */
const BOUND = { '16k': 0.08, mulaw8k: 0.15 } as const;

const fixtures = loadFixtures();

interface Row {
  fixture: Fixture;
  hyp: string;
  errors: WordErrors;
}

/**
 * Each utterance is decoded by a fresh recognizer, like the first thing a caller says (the
 * hardest case: nothing adapted yet), so results do not depend on order. Two lanes in
 * parallel (this machine has two cores), files split between them statically.
 */
async function decodeAll(search: SearchMode, variant: '16k' | 'mulaw8k', list: Fixture[]): Promise<Row[]> {
  const rows: Row[] = new Array(list.length);
  const lane = async (parity: number) => {
    for (let i = parity; i < list.length; i += 2) {
      const f = list[i]!;
      const rec = await SphinxRecognizer.create({ language: APPOINTMENT_BOOKING_LANGUAGE, search });
      try {
        const wav = fixtureAudio(f, variant);
        rec.start();
        const step = wav.sampleRate / 50; // 20 ms chunks, as a call delivers them
        for (let off = 0; off < wav.samples.length; off += step) {
          rec.push(wav.samples.subarray(off, off + step), wav.sampleRate);
        }
        const r = await rec.end();
        rows[i] = { fixture: f, hyp: r.text, errors: wordErrors(f.text, r.text) };
      } finally {
        await rec.close();
      }
    }
  };
  await Promise.all([lane(0), lane(1)]);
  return rows;
}

function report(title: string, rows: Row[]): string {
  const lines = [title];
  for (const r of rows) {
    const mark = r.errors.wer === 0 ? ' ' : '✗';
    lines.push(
      `${mark} ${(r.errors.wer * 100).toFixed(0).padStart(4)}%  ${r.fixture.file.padEnd(28)} ${r.fixture.voice.padEnd(9)} ` +
        `"${r.fixture.text}"${r.errors.wer === 0 ? '' : ` → "${r.hyp}"`}`,
    );
  }
  const phrase = rows.filter((r) => r.fixture.set === 'phrase').map((r) => r.errors);
  const variation = rows.filter((r) => r.fixture.set === 'variation').map((r) => r.errors);
  lines.push(
    `  overall WER ${(pooledWer(rows.map((r) => r.errors)) * 100).toFixed(1)}% ` +
      `(phrases ${(pooledWer(phrase) * 100).toFixed(1)}%, variations ${(pooledWer(variation) * 100).toFixed(1)}%) ` +
      `over ${rows.length} utterances`,
  );
  return lines.join('\n');
}

describe('offline recognition word error rate (pocketsphinx + domain 3-gram)', () => {
  const results: Partial<Record<'16k' | 'mulaw8k', Row[]>> = {};

  beforeAll(async () => {
    results['16k'] = await decodeAll('ngram', '16k', fixtures);
    results.mulaw8k = await decodeAll('ngram', 'mulaw8k', fixtures);
  });

  afterAll(() => {
    for (const [variant, rows] of Object.entries(results))
      if (rows) console.log(report(`WER ngram ${variant}`, rows));
  });

  it('covers about 30 utterances, mostly flite slt/awb plus espeak-ng variants', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(30);
    expect(fixtures.filter((f) => f.engine === 'espeak-ng').length).toBeGreaterThanOrEqual(3);
  });

  for (const variant of ['16k', 'mulaw8k'] as const) {
    it(`${variant}: pooled WER ≤ ${BOUND[variant] * 100}%`, () => {
      const rows = results[variant]!;
      expect(rows).toHaveLength(fixtures.length);
      expect(pooledWer(rows.map((r) => r.errors))).toBeLessThanOrEqual(BOUND[variant]);
    });
  }

  it('gets the short answers the flow depends on exactly right at 16 kHz', () => {
    const exact = [
      'yes.wav',
      'no.wav',
      'cancel.wav',
      'human.wav',
      'date-next-tuesday.wav',
      'no-wednesday.wav',
    ];
    for (const file of exact) {
      const row = results['16k']!.find((r) => r.fixture.file === file)!;
      expect(row.hyp, file).toBe(row.fixture.text);
    }
  });
});

describe.runIf(process.env.SPEECH_WER_GRAMMAR === '1')('grammar vs 3-gram (opt-in, ~1 min)', () => {
  it('measures the JSGF grammar on all fixtures', async () => {
    for (const variant of ['16k', 'mulaw8k'] as const) {
      const rows = await decodeAll('grammar', variant, fixtures);
      console.log(report(`WER grammar ${variant}`, rows));
    }
  }, 300_000);
});

describe('grammar search works', () => {
  it('decodes a few utterances with the JSGF grammar', async () => {
    const few = fixtures.filter((f) => ['yes.wav', 'cancel.wav', 'date-next-tuesday.wav'].includes(f.file));
    const rows = await decodeAll('grammar', '16k', few);
    expect(rows.map((r) => r.hyp)).toEqual(rows.map((r) => r.fixture.text));
  });
});
