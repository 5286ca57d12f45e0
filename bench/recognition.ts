/**
 * Offline recognition per slot type: the flow's single n-gram (what every state used before)
 * against the per-state searches (SphinxRecognizer.expect with the state's Expectation), in
 * the same run, on the same audio.
 *
 * The utterances (bench/recognition-set.ts: names in and out of the flow's list, digit
 * strings said in groups, dates, times, yes/no, corrections at a read-back) are synthesized at
 * run time, round-robin over flite slt, awb, kal, rms and espeak-ng variants, and decoded
 * twice: as 16 kHz PCM and as 8 kHz G.711 μ-law made by sox (what a phone call delivers).
 * Word error rate and slot accuracy (the words carrying the value, homophones equal) per slot
 * type, search and audio form; mean decode time per utterance.
 *
 *   npm run bench:recognition                  # build, then node dist/bench/recognition.js
 *   node dist/bench/recognition.js --limit 40  # a quick subset
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { APPOINTMENT_BOOKING_LANGUAGE } from '../agents/appointment-booking/vocabulary.js';
import { mulawDecode } from '../src/audio/mulaw.js';
import { resample } from '../src/audio/resample.js';
import { PronouncingDictionary } from '../src/providers/local/dictionary.js';
import { normalizeText } from '../src/providers/local/normalize.js';
import { SphinxRecognizer } from '../src/providers/local/recognizer.js';
import { parseVoice, synthesizeText, voiceSampleRate } from '../src/providers/local/synth.js';
import { wordErrors } from '../src/providers/local/wer.js';
import { type BenchUtterance, buildUtteranceSet, type SlotType, slotValue } from './recognition-set.js';

const { values: args } = parseArgs({
  options: { limit: { type: 'string' }, seed: { type: 'string', default: '12' } },
});

const VOICES = [
  'flite:slt',
  'flite:awb',
  'flite:kal',
  'flite:rms',
  'espeak-ng:en-us',
  'espeak-ng:en-us+m3',
  'espeak-ng:en-us+f2',
];
type Form = '16k' | 'mulaw8k';
type Search = 'old' | 'new';

interface Tally {
  refWords: number;
  errors: number;
  slotsRight: number;
  n: number;
  decodeMs: number;
}

/** 16 kHz PCM → 8 kHz μ-law by sox (repeatable, no dither) → decoded back to 8 kHz PCM. */
function toPhoneAudio(pcm16k: Int16Array): Int16Array {
  const out = spawnSync(
    'sox',
    [
      '-R',
      '-D',
      ...['-t', 'raw', '-r', '16000', '-e', 'signed', '-b', '16', '-c', '1', '-'],
      ...['-t', 'raw', '-r', '8000', '-e', 'mu-law', '-b', '8', '-c', '1', '-'],
    ],
    { input: Buffer.from(pcm16k.buffer, pcm16k.byteOffset, pcm16k.byteLength), maxBuffer: 64 << 20 },
  );
  if (out.status !== 0) throw new Error(`sox failed: ${out.stderr.toString()}`);
  return mulawDecode(new Uint8Array(out.stdout));
}

async function synthesize(u: BenchUtterance, voice: string): Promise<Int16Array> {
  const spec = parseVoice(voice);
  const pcm = await synthesizeText(u.text, spec);
  const rate = voiceSampleRate(spec);
  return rate === 16000 ? pcm : resample(pcm, rate, 16000);
}

async function main(): Promise<void> {
  const dict = PronouncingDictionary.load();
  const same = (w: string) => dict.pronunciations(w)[0] ?? w;
  let set = buildUtteranceSet(Number(args.seed));
  if (args.limit) set = set.filter((_, i) => i % Math.ceil(set.length / Number(args.limit)) === 0);
  const recognizers = new Map<string, SphinxRecognizer>();
  for (const form of ['16k', 'mulaw8k'] as Form[]) {
    for (const search of ['old', 'new'] as Search[]) {
      recognizers.set(
        `${form}/${search}`,
        await SphinxRecognizer.create({ language: APPOINTMENT_BOOKING_LANGUAGE }),
      );
    }
  }
  const tallies = new Map<string, Tally>();
  const tally = (key: string) => {
    const t = tallies.get(key) ?? { refWords: 0, errors: 0, slotsRight: 0, n: 0, decodeMs: 0 };
    tallies.set(key, t);
    return t;
  };
  const t0 = performance.now();
  for (const [i, u] of set.entries()) {
    const voice = VOICES[i % VOICES.length] as string;
    const pcm16 = await synthesize(u, voice);
    const audio: Record<Form, [Int16Array, number]> = {
      '16k': [pcm16, 16000],
      mulaw8k: [toPhoneAudio(pcm16), 8000],
    };
    const ref = normalizeText(u.text);
    for (const form of ['16k', 'mulaw8k'] as Form[]) {
      for (const search of ['old', 'new'] as Search[]) {
        const rec = recognizers.get(`${form}/${search}`) as SphinxRecognizer;
        if (search === 'new') rec.expect(u.expectation);
        const started = performance.now();
        rec.start();
        rec.push(...audio[form]);
        const r = await rec.end();
        const hyp = normalizeText(r.text);
        for (const key of [`${u.type}|${form}|${search}`, `all|${form}|${search}`]) {
          const t = tally(key);
          const e = wordErrors(u.text, r.text);
          t.refWords += e.reference;
          t.errors += e.substitutions + e.deletions + e.insertions;
          t.slotsRight += slotValue(u.type, hyp, same) === slotValue(u.type, ref, same) ? 1 : 0;
          t.n++;
          t.decodeMs += performance.now() - started;
        }
      }
    }
    if ((i + 1) % 25 === 0) process.stderr.write(`${i + 1}/${set.length} utterances\n`);
  }
  for (const rec of recognizers.values()) await rec.close();
  printTable(tallies, set.length, performance.now() - t0);
}

function printTable(tallies: Map<string, Tally>, n: number, ms: number): void {
  const types: Array<SlotType | 'all'> = [
    'name-in',
    'name-out',
    'digits',
    'date',
    'time',
    'yes-no',
    'correction',
    'all',
  ];
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  console.log(`\n${n} utterances × 2 audio forms × 2 searches, ${(ms / 1000).toFixed(0)} s\n`);
  console.log('| slot type | audio | n | WER old → new | slot accuracy old → new | decode ms old / new |');
  console.log('| --- | --- | ---: | --- | --- | --- |');
  for (const form of ['16k', 'mulaw8k'] as Form[]) {
    for (const type of types) {
      const o = tallies.get(`${type}|${form}|old`);
      const w = tallies.get(`${type}|${form}|new`);
      if (!o || !w) continue;
      console.log(
        `| ${type} | ${form} | ${o.n} | ${pct(o.errors / o.refWords)} → ${pct(w.errors / w.refWords)} | ${pct(o.slotsRight / o.n)} → ${pct(w.slotsRight / w.n)} | ${(o.decodeMs / o.n).toFixed(0)} / ${(w.decodeMs / w.n).toFixed(0)} |`,
      );
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
