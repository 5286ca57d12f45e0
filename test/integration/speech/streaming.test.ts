import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPOINTMENT_BOOKING_LANGUAGE } from '../../../agents/appointment-booking/index.js';
import { concatInt16 } from '../../../src/audio/pcm.js';
import { LocalSpeechUnavailableError } from '../../../src/providers/local/dictionary.js';
import { SphinxRecognizer } from '../../../src/providers/local/recognizer.js';
import { fixtureAudio, loadFixtures } from './fixtures.js';

const fixtures = loadFixtures();
const byFile = (file: string) => fixtures.find((f) => f.file === file)!;

describe('streaming recognizer (pocketsphinx in a worker thread)', () => {
  let rec: SphinxRecognizer;
  beforeAll(async () => {
    rec = await SphinxRecognizer.create({ language: APPOINTMENT_BOOKING_LANGUAGE });
  });
  afterAll(async () => {
    await rec.close();
  });

  it('streams partial hypotheses while the caller speaks, then the final transcript at end()', async () => {
    const f = byFile('monday-afternoon.wav');
    const wav = fixtureAudio(f, 'mulaw8k');
    const events: Array<{ kind: 'partial' | 'speech' | 'end'; at: number; text?: string }> = [];
    const t0 = performance.now();
    const onPartial = (text: string) => events.push({ kind: 'partial', at: performance.now() - t0, text });
    const onSpeech = (s: boolean) =>
      events.push({ kind: 'speech', at: performance.now() - t0, text: String(s) });
    rec.on('partial', onPartial);
    rec.on('speech', onSpeech);
    rec.start();
    // Real time: one 20 ms chunk every 20 ms, as a call delivers it.
    const step = wav.sampleRate / 50;
    for (let off = 0; off < wav.samples.length; off += step) {
      rec.push(wav.samples.subarray(off, off + step), wav.sampleRate);
      await sleep(20);
    }
    events.push({ kind: 'end', at: performance.now() - t0 });
    const result = await rec.end();
    const finalAt = performance.now() - t0;
    rec.off('partial', onPartial);
    rec.off('speech', onSpeech);

    const partials = events.filter((e) => e.kind === 'partial');
    const endAt = events.find((e) => e.kind === 'end')!.at;
    console.log(
      `partials (ms → text):\n${partials.map((p) => `  ${p.at.toFixed(0).padStart(5)}  ${p.text}`).join('\n')}\n` +
        `  audio ended at ${endAt.toFixed(0)} ms; final "${result.text}" at ${finalAt.toFixed(0)} ms ` +
        `(end pass ${result.endMs.toFixed(0)} ms, slowest chunk ${result.maxChunkMs.toFixed(1)} ms)`,
    );
    expect(result.text).toBe(f.text);
    expect(partials.length).toBeGreaterThanOrEqual(3);
    // The first words are out while most of the utterance is still to come.
    expect(partials[0]!.at).toBeLessThan(endAt * 0.6);
    expect(partials.every((p) => p.at < finalAt)).toBe(true);
    // The decoder's VAD saw speech start, then (0.5 s of trailing silence) end, before end().
    const speech = events.filter((e) => e.kind === 'speech').map((e) => e.text);
    expect(speech.slice(0, 2)).toEqual(['true', 'false']);
    expect(events.findIndex((e) => e.kind === 'speech')).toBeLessThan(events.indexOf(partials[0]!));
    expect(result.confidence).toBeGreaterThan(0.5);
    expect(result.words.map((w) => w.word).join(' ')).toBe(f.text);
  });

  it('decodes off the event loop: a long backlog decodes while timers stay on time', async () => {
    // ~30 s of phone audio, queued at once: a second or more of decoder work.
    const audio = concatInt16(fixtures.slice(0, 12).map((f) => fixtureAudio(f, 'mulaw8k').samples));
    rec.start();
    for (let off = 0; off < audio.length; off += 160) rec.push(audio.subarray(off, off + 160), 8000);
    const h = monitorEventLoopDelay({ resolution: 5 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    h.enable();
    const t = performance.now();
    const result = await rec.end();
    const waited = performance.now() - t;
    h.disable();
    clearInterval(timer);
    const maxDelayMs = h.max / 1e6;
    console.log(
      `decoded ${(audio.length / 8000).toFixed(0)} s of audio: decoder busy ${(result.processMs + result.endMs).toFixed(0)} ms ` +
        `(slowest 20 ms chunk ${result.maxChunkMs.toFixed(1)} ms); event loop max delay ${maxDelayMs.toFixed(1)} ms, ` +
        `${ticks} timer ticks in ${waited.toFixed(0)} ms`,
    );
    expect(result.processMs).toBeGreaterThan(300); // real work happened…
    expect(waited).toBeGreaterThan(200); // …while we waited for it…
    // …and the event loop stayed responsive (decoding inline would have stalled it for all of it).
    expect(maxDelayMs).toBeLessThan(Math.min(100, result.processMs / 4));
    expect(ticks).toBeGreaterThan(waited / 10 / 3);
    expect(result.text.split(' ').length).toBeGreaterThan(40);
  });

  it('gives each utterance its own result and ignores stale partials', async () => {
    const texts: string[] = [];
    for (const file of ['yes.wav', 'no-wednesday.wav', 'cancel.wav']) {
      const wav = fixtureAudio(byFile(file), '16k');
      rec.start();
      rec.push(wav.samples, wav.sampleRate);
      texts.push((await rec.end()).text);
    }
    expect(texts).toEqual(['yes', 'no make it wednesday', 'i want to cancel my appointment']);
  });

  it('switches domain language between utterances', async () => {
    const other = await SphinxRecognizer.create({
      language: { phrases: ['cancel my appointment', 'yes', 'no'], words: ['hello'] },
    });
    try {
      expect(other.compiled!.vocabulary).toEqual(['appointment', 'cancel', 'hello', 'my', 'no', 'yes']);
      const human = fixtureAudio(byFile('human.wav'), '16k');
      other.push(human.samples, 16000);
      const before = await other.end();
      expect(before.text).not.toBe('i want to speak to a human'); // not in this language
      other.setLanguage({ phrases: ['I want to speak to a human', 'I want to cancel'] });
      other.push(human.samples, 16000);
      expect((await other.end()).text).toBe('i want to speak to a human');
    } finally {
      await other.close();
    }
  });

  it('reports words the dictionary does not know', async () => {
    const r = await SphinxRecognizer.create({
      language: { phrases: ['book with doctor Zxqvbrt please', 'yes'], slots: {}, words: ['Qwzzyx'] },
    });
    await r.close();
    expect(r.oov).toEqual([
      { word: 'zxqvbrt', source: 'book with doctor Zxqvbrt please' },
      { word: 'qwzzyx', source: 'Qwzzyx' },
    ]);
    expect(r.compiled!.vocabulary).toEqual(['book', 'doctor', 'please', 'with', 'yes']);
  });

  it('fails clearly when used after close or when the model is missing', async () => {
    const r = await SphinxRecognizer.create({ language: { phrases: ['yes', 'no'] } });
    await r.close();
    expect(() => r.push(new Int16Array(320), 16000)).toThrow(/recognizer is closed/);
    await expect(SphinxRecognizer.create({ acousticModel: '/nonexistent/model' })).rejects.toThrow(
      LocalSpeechUnavailableError,
    );
    await expect(SphinxRecognizer.create({ acousticModel: '/nonexistent/model' })).rejects.toThrow(
      /npm run setup/,
    );
  });
});
