/**
 * False cut-offs of the flow-aware end of turn, at audio level, on every caller utterance of
 * the fixtures: the recorded WAVs of test/fixtures/audio/16k and every `say` line of the
 * caller scripts in test/fixtures/calls (synthesized in the script's voice). Each utterance is
 * spoken in real time into the real pipeline (silero VAD, pocketsphinx, the framework's turn
 * handling) and answered by a FAKE engine.
 *
 * The fake's completesTurn answers "complete" to ANY non-empty partial transcript: the worst
 * case, where any pause of the short silence inside an utterance ends the turn. An utterance
 * that reaches the engine as more than one turn is a false cut-off; zero here means no flow's
 * own (stricter) completesTurn can cut these utterances either. The same utterances through
 * the fixed path give the end-of-utterance delay to compare with.
 *
 *   node dist/bench/turn-cutoffs.js [--modes flow,fixed] [--limit N] [--json]
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { APPOINTMENT_BOOKING_LANGUAGE } from '../agents/appointment-booking/vocabulary.js';
import { type Pcm, readMonoWav } from '../src/audio/clip.js';
import { FakeConversation } from '../src/pipeline/fake-conversation.js';
import { percentile } from '../src/pipeline/latency-meter.js';
import { ensureAgentsLogger } from '../src/pipeline/logging.js';
import { simulateCall } from '../src/pipeline/simulator.js';
import type { TurnEndingMode } from '../src/pipeline/turn-ending.js';
import { loadSileroVad } from '../src/pipeline/vad.js';
import { FakeTTS } from '../src/providers/fake/index.js';
import { LocalSTT, parseVoice, synthesizeText, voiceSampleRate } from '../src/providers/local/index.js';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures');

interface Utterance {
  source: string;
  text: string;
  audio: Pcm;
}

async function loadUtterances(): Promise<Utterance[]> {
  const out: Utterance[] = [];
  const refs = JSON.parse(readFileSync(join(FIXTURES, 'audio/references.json'), 'utf8')) as Record<
    string,
    { text: string }
  >;
  for (const [file, ref] of Object.entries(refs)) {
    out.push({
      source: `audio/16k/${file}`,
      text: ref.text,
      audio: readMonoWav(join(FIXTURES, 'audio/16k', file)),
    });
  }
  const dir = join(FIXTURES, 'calls');
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    const script = parseYaml(readFileSync(join(dir, file), 'utf8')) as { voice?: string; turns?: unknown[] };
    const voice = parseVoice(script.voice ?? 'slt');
    for (const turn of script.turns ?? []) {
      const say = (turn as { say?: unknown }).say;
      if (typeof say !== 'string') continue;
      const samples = await synthesizeText(say, voice);
      out.push({
        source: `calls/${file}`,
        text: say,
        audio: { sampleRate: voiceSampleRate(voice), samples },
      });
    }
  }
  return out;
}

interface ModeResult {
  mode: TurnEndingMode;
  utterances: number;
  engineTurns: number;
  /** Engine turns beyond one per utterance, with what the engine heard in that call. */
  cutOffs: { batch: string[]; heard: string[] }[];
  eou_p50_ms: number | null;
  eou_p95_ms: number | null;
  /** The worker's voice-to-voice (VAD end of speech → first reply frame at the output). */
  v2v_p50_ms: number | null;
  v2v_p95_ms: number | null;
}

/** One call per batch of utterances (each a caller turn); the fake engine asks for one slot per utterance. */
async function runMode(mode: TurnEndingMode, utterances: Utterance[], batch = 12): Promise<ModeResult> {
  const vad = await loadSileroVad();
  const eou: number[] = [];
  const v2v: number[] = [];
  const cutOffs: ModeResult['cutOffs'] = [];
  let engineTurns = 0;
  for (let i = 0; i < utterances.length; i += batch) {
    const part = utterances.slice(i, i + batch);
    // Twice the slots it needs, so extra turns never make the fake hang up before the script ends.
    const port = new FakeConversation({
      slots: [...part, ...part].map((_, k) => `u${k}`),
      completesTurn: () => true,
    });
    const result = await simulateCall({
      port,
      script: { name: `cutoffs-${i}`, turns: part.map((u) => ({ audio: u.audio, transcript: u.text })) },
      providers: { stt: new LocalSTT({ language: APPOINTMENT_BOOKING_LANGUAGE }), tts: new FakeTTS(), vad },
      session: { turnEnding: { mode } },
      controller: { noInputTimeoutMs: null },
      replyTimeoutMs: 6000,
    });
    for (const t of result.latency.turns) {
      if (t.eou_ms !== null) eou.push(t.eou_ms);
      if (t.v2v_ms !== null) v2v.push(t.v2v_ms);
    }
    // The caller speaks each utterance once, after the reply to the previous one: an engine
    // turn beyond one per utterance is a piece of an utterance cut off mid-answer.
    const heard = port.received.filter((r) => r.kind === 'text').map((r) => r.value ?? '');
    engineTurns += heard.length;
    for (let extra = heard.length - part.length; extra > 0; extra--) {
      cutOffs.push({ batch: part.map((u) => u.text), heard });
    }
  }
  return {
    mode,
    utterances: utterances.length,
    engineTurns,
    cutOffs,
    eou_p50_ms: round(percentile(eou, 50)),
    eou_p95_ms: round(percentile(eou, 95)),
    v2v_p50_ms: round(percentile(v2v, 50)),
    v2v_p95_ms: round(percentile(v2v, 95)),
  };
}

function round(v: number | null): number | null {
  return v === null ? null : Math.round(v);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      modes: { type: 'string', default: 'flow,fixed' },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  ensureAgentsLogger('error');
  let utterances = await loadUtterances();
  if (values.limit) utterances = utterances.slice(0, Number(values.limit));
  const results: ModeResult[] = [];
  for (const mode of values.modes.split(',') as TurnEndingMode[])
    results.push(await runMode(mode, utterances));
  if (values.json) {
    console.log(JSON.stringify(results, null, 2));
    return;
  }
  console.log(
    `${utterances.length} caller utterances of the fixtures, spoken in real time, worst-case completesTurn`,
  );
  console.log(
    '| end of turn | utterances | engine turns | false cut-offs | eou p50 | eou p95 | v2v p50 | v2v p95 |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    console.log(
      `| ${r.mode} | ${r.utterances} | ${r.engineTurns} | ${r.cutOffs.length} | ${r.eou_p50_ms} ms | ${r.eou_p95_ms} ms | ${r.v2v_p50_ms} ms | ${r.v2v_p95_ms} ms |`,
    );
  }
  for (const r of results)
    for (const c of r.cutOffs)
      console.log(`cut-off (${r.mode}): said ${JSON.stringify(c.batch)}, heard ${JSON.stringify(c.heard)}`);
}

await main();
