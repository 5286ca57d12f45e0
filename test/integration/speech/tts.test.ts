import { initializeLogger, tts } from '@livekit/agents';
import { beforeAll, describe, expect, it } from 'vitest';
import { rmsDbfs } from '../../../src/audio/level.js';
import { concatInt16 } from '../../../src/audio/pcm.js';
import { LocalSpeechUnavailableError } from '../../../src/providers/local/dictionary.js';
import {
  parseVoice,
  SentenceBuffer,
  splitSentences,
  synthesizeText,
  voiceForLanguage,
  voiceSampleRate,
} from '../../../src/providers/local/synth.js';
import { LocalTTS } from '../../../src/providers/local/tts.js';
import { sleep } from '../../../src/util/async.js';

beforeAll(() => {
  initializeLogger({ pretty: false, level: 'warn' });
});

const REPLY =
  'Thanks, John. I have booked you in for next Tuesday at three thirty in the afternoon. ' +
  'Your confirmation code is A B 3 7 K. You will get a text message the day before. ' +
  'If you need to change anything, just call this number again. Is there anything else I can help with?';

describe('synthesis engines', () => {
  it.each([
    ['slt', 16000],
    ['flite:awb', 16000],
    ['kal', 8000],
    ['espeak-ng:en-us', 22050],
    ['espeak-ng:en-us+f3', 22050],
  ])('%s speaks at %i Hz, audibly', async (name, rate) => {
    const voice = parseVoice(name);
    expect(voiceSampleRate(voice)).toBe(rate);
    const audio = await synthesizeText('Your appointment is confirmed for Tuesday.', voice);
    const seconds = audio.length / rate;
    expect(seconds).toBeGreaterThan(1);
    expect(seconds).toBeLessThan(5);
    expect(rmsDbfs(audio)).toBeGreaterThan(-35);
  });

  it('refuses unknown voices and engines with a useful message', () => {
    expect(() => parseVoice('flite:nosuch')).toThrow(
      /unknown flite voice "nosuch" \(built-in voices: slt, awb/,
    );
    expect(() => parseVoice('polly:joanna')).toThrow(/unknown engine "polly"/);
    expect(parseVoice('en-us+m3')).toEqual({ engine: 'espeak-ng', voice: 'en-us+m3' });
  });

  it('says "run npm run setup" when the synthesizer is not installed', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => new LocalTTS({ voice: 'slt' })).toThrow(LocalSpeechUnavailableError);
      expect(() => new LocalTTS({ voice: 'espeak-ng:en' })).toThrow(
        /espeak-ng is not installed.*npm run setup/,
      );
      await expect(synthesizeText('hi', parseVoice('slt'))).rejects.toThrow(
        /flite is not installed.*npm run setup/,
      );
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('sentence splitting', () => {
  it('splits at sentence ends, not at abbreviations, times or decimals', () => {
    expect(
      splitSentences('Hello there! Dr. Smith sees you at 3 p.m. on Friday. Is 2.5 hours ok? Yes'),
    ).toEqual(['Hello there!', 'Dr. Smith sees you at 3 p.m. on Friday.', 'Is 2.5 hours ok?', 'Yes']);
    expect(splitSentences('  ...  ')).toEqual([]);
    const long = `${'word '.repeat(30)}and then, ${'more '.repeat(30)}.`;
    for (const s of splitSentences(long, 160)) expect(s.length).toBeLessThanOrEqual(160);
  });

  it('emits streamed text sentence by sentence', () => {
    const b = new SentenceBuffer();
    const got: string[] = [];
    for (const token of ['Sure', ', John', '. Your', ' slot is', ' Tuesday', '. ', 'Anything', ' else']) {
      got.push(...b.push(token));
    }
    expect(got).toEqual(['Sure, John.', 'Your slot is Tuesday.']);
    expect(b.flush()).toEqual(['Anything else']);
  });
});

describe('LocalTTS (@livekit/agents tts.TTS)', () => {
  it('streams a reply sentence by sentence: first audio long before the whole reply is synthesized', async () => {
    const provider = new LocalTTS({ voice: 'slt' });
    expect(provider.sampleRate).toBe(16000);
    expect(provider.capabilities.streaming).toBe(true);
    const metrics: number[] = [];
    provider.on('metrics_collected', (m) => metrics.push(m.ttfbMs));
    const t0 = performance.now();
    const stream = provider.synthesize(REPLY);
    let ttfb = 0;
    let synthesizedAtFirstFrame = -1;
    const frames: tts.SynthesizedAudio[] = [];
    for await (const audio of stream) {
      if (frames.length === 0) {
        ttfb = performance.now() - t0;
        synthesizedAtFirstFrame = stream.sentencesSynthesized;
      }
      frames.push(audio);
    }
    const total = performance.now() - t0;
    const sentences = stream.sentences.length;
    console.log(
      `flite slt: ${sentences} sentences, first audio after ${ttfb.toFixed(0)} ms ` +
        `(${synthesizedAtFirstFrame} sentence(s) synthesized by then), all audio after ${total.toFixed(0)} ms`,
    );
    expect(sentences).toBe(5);
    expect(synthesizedAtFirstFrame).toBeGreaterThanOrEqual(1);
    expect(synthesizedAtFirstFrame).toBeLessThan(sentences);
    expect(ttfb).toBeLessThan(total);
    // 20 ms frames at 16 kHz, only the last marked final, each sentence's text on its first frame.
    expect(
      frames.slice(0, -1).every((f) => f.frame.samplesPerChannel === 320 || f.deltaText === undefined),
    ).toBe(true);
    expect(frames.filter((f) => f.final)).toHaveLength(1);
    expect(frames.at(-1)!.final).toBe(true);
    expect(frames.filter((f) => f.deltaText).map((f) => f.deltaText)).toEqual(stream.sentences);
    const audio = concatInt16(frames.map((f) => f.frame.data));
    expect(audio.length / 16000).toBeGreaterThan(10);
    expect(rmsDbfs(audio)).toBeGreaterThan(-35);
    await sleep(10);
    expect(metrics[0]).toBeGreaterThanOrEqual(0);
  });

  it('synthesizes streamed text (LLM tokens) as each sentence completes, segment by flush', async () => {
    const provider = new LocalTTS({ voice: 'awb' });
    const stream = provider.stream();
    const got: Array<tts.SynthesizedAudio | typeof tts.SynthesizeStream.END_OF_STREAM> = [];
    const reading = (async () => {
      for await (const a of stream) got.push(a);
    })();
    const t0 = performance.now();
    let firstAudioAt = 0;
    const tokens = 'Okay. I can do that for you. Let me check the calendar for Tuesday.'.split(/(?<= )/);
    for (const tok of tokens) {
      stream.pushText(tok);
      await sleep(15); // an LLM's pace
      if (!firstAudioAt && got.length) firstAudioAt = performance.now() - t0;
    }
    stream.flush();
    stream.pushText('Goodbye.');
    stream.endInput();
    await reading;
    const textPushedFor = tokens.length * 15;
    console.log(
      `awb stream: first audio ${firstAudioAt.toFixed(0)} ms into ~${textPushedFor} ms of token streaming`,
    );
    expect(firstAudioAt).toBeGreaterThan(0); // audio for "Okay." came while tokens were still arriving
    expect(got.at(-1)).toBe(tts.SynthesizeStream.END_OF_STREAM);
    const audio = got.filter((a): a is tts.SynthesizedAudio => a !== tts.SynthesizeStream.END_OF_STREAM);
    expect(audio.filter((a) => a.final)).toHaveLength(2); // one per segment (flush, then end)
    expect(new Set(audio.map((a) => a.segmentId)).size).toBe(2);
    expect(audio.filter((a) => a.deltaText).map((a) => a.deltaText)).toEqual([
      'Okay.',
      'I can do that for you.',
      'Let me check the calendar for Tuesday.',
      'Goodbye.',
    ]);
  });

  it('uses espeak-ng voices at their own rate', async () => {
    const provider = new LocalTTS({ voice: 'espeak-ng:en-us', frameMs: 10 });
    expect(provider.sampleRate).toBe(22050);
    const frame = await provider.synthesize('Hello. Goodbye.').collect();
    expect(frame.sampleRate).toBe(22050);
    expect(frame.samplesPerChannel / 22050).toBeGreaterThan(0.8);
  });

  it("speaks a Swedish call with espeak-ng's Swedish voice, an English one with the configured voice", async () => {
    expect(voiceForLanguage('en-US', 'awb')).toBe('awb');
    const swedish = voiceForLanguage('sv-SE', 'slt');
    expect(swedish).toBe('espeak-ng:sv');
    const provider = new LocalTTS({ voice: swedish, frameMs: 10 });
    const frame = await provider.synthesize('Hej, det här är Bageriet på Söder. Har du en minut?').collect();
    // Real speech, about two seconds of it (espeak-ng refuses a voice it does not have).
    expect(frame.samplesPerChannel / frame.sampleRate).toBeGreaterThan(1.5);
    expect(
      rmsDbfs(new Int16Array(frame.data.buffer, frame.data.byteOffset, frame.samplesPerChannel)),
    ).toBeGreaterThan(-40);
  });
});
