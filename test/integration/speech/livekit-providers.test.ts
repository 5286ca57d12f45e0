import { setTimeout as sleep } from 'node:timers/promises';
import { initializeLogger, stt } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { APPOINTMENT_BOOKING_LANGUAGE } from '../../../agents/appointment-booking/index.js';
import { concatInt16 } from '../../../src/audio/pcm.js';
import { resample } from '../../../src/audio/resample.js';
import { LocalSTT } from '../../../src/providers/local/stt.js';
import { LocalTTS } from '../../../src/providers/local/tts.js';
import { fixtureAudio, loadFixtures } from './fixtures.js';

const { SpeechEventType } = stt;
const fixtures = loadFixtures();
const byFile = (file: string) => fixtures.find((f) => f.file === file)!;

beforeAll(() => {
  initializeLogger({ pretty: false, level: 'warn' });
});

function frames(samples: Int16Array, rate: number, ms = 10): AudioFrame[] {
  const n = (rate * ms) / 1000;
  const out: AudioFrame[] = [];
  for (let off = 0; off < samples.length; off += n) {
    const data = samples.slice(off, off + n);
    out.push(new AudioFrame(data, rate, 1, data.length));
  }
  return out;
}

interface Seen {
  type: stt.SpeechEventType;
  at: number;
  text?: string;
  requestId?: string;
}

async function collect(stream: stt.SpeechStream, t0: number): Promise<Seen[]> {
  const seen: Seen[] = [];
  for await (const ev of stream) {
    seen.push({
      type: ev.type,
      at: performance.now() - t0,
      text: ev.alternatives?.[0]?.text,
      requestId: ev.requestId,
    });
  }
  return seen;
}

describe('LocalSTT through the @livekit/agents stt interfaces', () => {
  it('declares streaming with interim results', () => {
    const s = new LocalSTT({ language: APPOINTMENT_BOOKING_LANGUAGE });
    expect(s.capabilities).toMatchObject({ streaming: true, interimResults: true });
    expect(s.provider).toBe('pocketsphinx');
  });

  it('turns room audio (48 kHz, 10 ms frames, real time) into interim and final transcripts, endpointing by itself', async () => {
    const sttProvider = new LocalSTT({ language: APPOINTMENT_BOOKING_LANGUAGE });
    sttProvider.prewarm();
    const stream = sttProvider.stream();
    const utterances = ['date-next-tuesday.wav', 'time-three-thirty.wav'].map(byFile);
    // Each fixture ends with 0.5 s of silence; add 0.7 s more after each turn.
    const GAP = 33600;
    const pcm48 = concatInt16(
      utterances.flatMap((f) => [
        resample(fixtureAudio(f, '16k').samples, 16000, 48000),
        new Int16Array(GAP),
      ]),
    );
    const speechEnds: number[] = [];
    const t0 = performance.now();
    const events = collect(stream, t0);
    let pos = 0;
    for (const f of utterances) {
      const len = Math.round(fixtureAudio(f, '16k').samples.length * 3) + GAP;
      speechEnds.push(((pos + len - GAP - 24000) / 48000) * 1000); // end of the words
      pos += len;
    }
    const started = performance.now();
    let i = 0;
    for (const fr of frames(pcm48, 48000)) {
      stream.pushFrame(fr);
      i++;
      const due = started + i * 10 - performance.now();
      if (due > 0) await sleep(due);
    }
    const inputEndedAt = performance.now() - t0;
    stream.endInput();
    const seen = await events;

    const finals = seen.filter((e) => e.type === SpeechEventType.FINAL_TRANSCRIPT);
    expect(finals.map((e) => e.text)).toEqual(utterances.map((u) => u.text));
    for (const [k, final] of finals.entries()) {
      const latency = final.at - (speechEnds[k]! + (started - t0));
      console.log(`"${final.text}": final ${latency.toFixed(0)} ms after the caller stopped speaking`);
      // ~400 ms of silence to decide the turn is over, plus decoding.
      expect(latency).toBeLessThan(1000);
      // Arrived while audio was still flowing (no flush, no endInput needed).
      expect(final.at).toBeLessThan(inputEndedAt);
    }
    // Per utterance: START_OF_SPEECH, interims, FINAL, END_OF_SPEECH, usage — under one request id.
    for (const final of finals) {
      const mine = seen.filter((e) => e.requestId === final.requestId).map((e) => e.type);
      expect(mine[0]).toBe(SpeechEventType.START_OF_SPEECH);
      expect(mine.filter((t) => t === SpeechEventType.INTERIM_TRANSCRIPT).length).toBeGreaterThanOrEqual(1);
      expect(mine.slice(-3)).toEqual([
        SpeechEventType.FINAL_TRANSCRIPT,
        SpeechEventType.END_OF_SPEECH,
        SpeechEventType.RECOGNITION_USAGE,
      ]);
      expect(mine.indexOf(SpeechEventType.INTERIM_TRANSCRIPT)).toBeLessThan(
        mine.indexOf(SpeechEventType.FINAL_TRANSCRIPT),
      );
    }
    await sttProvider.close();
  });

  it('finalizes promptly on flush() (8 kHz phone frames, manual endpointing)', async () => {
    const sttProvider = new LocalSTT({ language: APPOINTMENT_BOOKING_LANGUAGE, endpointing: 'manual' });
    const stream = sttProvider.stream();
    const f = byFile('cancel.wav');
    const t0 = performance.now();
    const events = collect(stream, t0);
    for (const fr of frames(fixtureAudio(f, 'mulaw8k').samples, 8000, 20)) stream.pushFrame(fr);
    await sleep(400); // let the decoder catch up, as it would in real time
    const flushedAt = performance.now() - t0;
    stream.flush();
    stream.endInput();
    const seen = await events;
    const final = seen.find((e) => e.type === SpeechEventType.FINAL_TRANSCRIPT)!;
    expect(final.text).toBe(f.text);
    console.log(`flush → final in ${(final.at - flushedAt).toFixed(0)} ms`);
    expect(final.at - flushedAt).toBeLessThan(600);
    expect(seen.filter((e) => e.type === SpeechEventType.FINAL_TRANSCRIPT)).toHaveLength(1);
    await sttProvider.close();
  });

  it('recognize() transcribes a buffered utterance', async () => {
    const sttProvider = new LocalSTT({ language: APPOINTMENT_BOOKING_LANGUAGE });
    const f = byFile('human.wav');
    const ev = await sttProvider.recognize(frames(fixtureAudio(f, '16k').samples, 16000, 20));
    expect(ev.type).toBe(SpeechEventType.FINAL_TRANSCRIPT);
    expect(ev.alternatives?.[0]?.text).toBe(f.text);
    expect(ev.alternatives?.[0]?.language).toBe('en-US');
  });

  it('round trip: LocalTTS speaks a sentence, LocalSTT hears it', async () => {
    const speaker = new LocalTTS({ voice: 'awb' });
    const frame = await speaker.synthesize('I want to cancel my appointment.').collect();
    const listener = new LocalSTT({ language: APPOINTMENT_BOOKING_LANGUAGE, endpointing: 'manual' });
    const stream = listener.stream();
    const events = collect(stream, performance.now());
    for (const fr of frames(frame.data, frame.sampleRate, 20)) stream.pushFrame(fr);
    stream.endInput();
    const finals = (await events).filter((e) => e.type === SpeechEventType.FINAL_TRANSCRIPT);
    expect(finals.map((e) => e.text)).toEqual(['i want to cancel my appointment']);
  });

  it('surfaces a missing speech stack as a clear error', () => {
    expect(() => new LocalSTT({ acousticModel: '/nonexistent' })).toThrow(
      /Acoustic model \/nonexistent not found.*npm run setup/,
    );
  });
});
