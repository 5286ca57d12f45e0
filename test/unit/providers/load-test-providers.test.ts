import { stt, type VAD } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { ensureAgentsLogger } from '../../../src/pipeline/logging.js';
import {
  createLoadTestProviders,
  LOAD_TEST_LOOP,
  LOAD_TEST_OPENING,
  loadTestTranscript,
} from '../../../src/providers/fake/index.js';
import { selectProviders } from '../../../src/providers/select.js';

const RATE = 16000;
const FRAME = 320; // 20 ms

function frames(ms: number, amplitude: number): AudioFrame[] {
  return Array.from({ length: ms / 20 }, (_, f) => {
    const data = new Int16Array(FRAME);
    for (let i = 0; i < FRAME; i++)
      data[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 220 * (f * FRAME + i)) / RATE));
    return new AudioFrame(data, RATE, 1, FRAME);
  });
}

describe('PROVIDER=fake (load tests)', () => {
  it('is a valid PROVIDER and selects instant fakes without an LLM', async () => {
    const cfg = loadConfig({ PROVIDER: 'fake' });
    expect(cfg.resolvedProvider).toBe('fake');
    // the fake path uses no VAD of its own (the session's VAD still decides turns)
    const selected = await selectProviders(cfg, { vad: {} as VAD });
    expect(selected.kind).toBe('fake');
    expect(selected.chain).toEqual({ stt: ['fake.STT'], tts: ['fake.TTS'], llm: [] });
    expect(selected.llm).toBeUndefined();
    expect(selected.stt.capabilities.streaming).toBe(true);
    await selected.close();
  });

  it('rotates: the booking opening, then the corrections for ever', () => {
    const said = Array.from({ length: LOAD_TEST_OPENING.length + 2 * LOAD_TEST_LOOP.length + 1 }, (_, i) =>
      loadTestTranscript(i),
    );
    expect(said.slice(0, LOAD_TEST_OPENING.length)).toEqual([...LOAD_TEST_OPENING]);
    const rest = said.slice(LOAD_TEST_OPENING.length);
    expect(rest.slice(0, LOAD_TEST_LOOP.length)).toEqual([...LOAD_TEST_LOOP]);
    expect(rest.slice(LOAD_TEST_LOOP.length, 2 * LOAD_TEST_LOOP.length)).toEqual([...LOAD_TEST_LOOP]);
    expect(rest.at(-1)).toBe(LOAD_TEST_LOOP[0]);
  });

  it('streaming: one final transcript per utterance, pauses inside an utterance do not split it', async () => {
    ensureAgentsLogger('silent');
    const { stt: fake } = createLoadTestProviders();
    const stream = fake.stream();
    // utterance 1 has a 200 ms pause between "words"; then 600 ms silence; utterance 2; silence
    for (const f of [
      ...frames(600, 8000),
      ...frames(200, 0),
      ...frames(400, 8000),
      ...frames(600, 0),
      ...frames(500, 8000),
      ...frames(600, 0),
    ]) {
      stream.pushFrame(f);
    }
    stream.endInput();
    const finals: string[] = [];
    for await (const ev of stream) {
      if (ev.type === stt.SpeechEventType.FINAL_TRANSCRIPT) finals.push(ev.alternatives![0].text);
    }
    expect(finals).toEqual([LOAD_TEST_OPENING[0], LOAD_TEST_OPENING[1]]);
  });
});
