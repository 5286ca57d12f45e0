import { initializeLogger, stt } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPOINTMENT_BOOKING_LANGUAGE } from '../../../agents/appointment-booking/vocabulary.js';
import type { Expectation } from '../../../src/contracts/expectation.js';
import { SphinxRecognizer } from '../../../src/providers/local/recognizer.js';
import { LocalSTT } from '../../../src/providers/local/stt.js';
import { parseVoice, synthesizeText } from '../../../src/providers/local/synth.js';

// Real pocketsphinx on audio flite generates here; the Expectations are built directly, as
// the conversation engine will publish them after each reply.
const intents = ['talk to a person', 'cancel', 'repeat that'];
const exp = (kind: Expectation['kind'], extra: Partial<Expectation> = {}): Expectation => ({
  kind,
  state: `test-${kind}`,
  slots: ['date', 'time'],
  intentPhrases: intents,
  ...extra,
});
const say = (text: string, voice = 'flite:slt') => synthesizeText(text, parseVoice(voice));

describe('per-state searches on one decoder', () => {
  let rec: SphinxRecognizer;
  const hear = async (expectation: Expectation | undefined, text: string, voice?: string) => {
    rec.expect(expectation);
    rec.start();
    rec.push(await say(text, voice), 16000);
    return rec.end();
  };
  beforeAll(async () => {
    rec = await SphinxRecognizer.create({ language: APPOINTMENT_BOOKING_LANGUAGE });
  });
  afterAll(async () => {
    await rec.close();
  });

  it('digits said in groups come out as digits only', async () => {
    const r = await hear(exp('digits'), 'four one five, five five five, zero one nine eight');
    expect(r.text).toBe('four one five five five five zero one nine eight');
    expect(r.search).toMatch(/^digits-/);
  });

  it('hears a name outside the built-in lists when the flow lists it', async () => {
    const r = await hear(exp('name', { phrases: ['edward', 'furlong'] }), 'Edward Furlong', 'flite:awb');
    expect(r.text).toBe('edward furlong');
  });

  it('confirm: yes, and corrections at the read-back', async () => {
    expect((await hear(exp('confirm'), "Yes, that's correct.")).text).toBe("yes that's correct");
    expect((await hear(exp('confirm'), 'No, make it Friday.', 'flite:rms')).text).toBe('no make it friday');
    expect((await hear(exp('confirm'), 'The time is wrong.')).text).toBe('the time is wrong');
  });

  it('keeps intents hearable in a constrained state', async () => {
    expect((await hear(exp('digits'), 'talk to a person')).text).toBe('talk to a person');
  });

  it('switches between turns without reloading: digits, open, digits again on the same decoder', async () => {
    const first = await hear(exp('digits'), 'eight eight one two');
    const open = await hear(undefined, 'I want to cancel my appointment.');
    const again = await hear(exp('digits'), 'six zero zero one');
    expect(open.search).toBe('');
    expect(open.text).toBe('i want to cancel my appointment');
    expect(again.search).toBe(first.search);
    expect(again.text).toBe('six zero zero one');
  });

  it('returns the n-best list with confidences, best first', async () => {
    const r = await hear(undefined, 'next tuesday at ten a m please');
    expect(r.alternatives[0]).toEqual({ text: r.text, confidence: r.confidence });
    expect(r.alternatives.length).toBeGreaterThan(1);
    for (const a of r.alternatives) expect(a.confidence).toBeLessThanOrEqual(r.confidence + 1e-9);
    expect(new Set(r.alternatives.map((a) => a.text)).size).toBe(r.alternatives.length);
  });
});

describe('LocalSTT.expect through the @livekit/agents stream', () => {
  beforeAll(() => {
    initializeLogger({ pretty: false, level: 'warn' });
  });

  it('an open stream switches search before the next words; its n-best is kept for the engine', async () => {
    const sttProvider = new LocalSTT({
      language: APPOINTMENT_BOOKING_LANGUAGE,
      endpointing: 'manual',
      perStateSearch: true,
    });
    const stream = sttProvider.stream();
    sttProvider.expect(exp('digits', { digits: { min: 8, max: 8 } }));
    const pcm = await say('eight eight one two, six zero zero one');
    for (let off = 0; off < pcm.length; off += 320) {
      const data = pcm.slice(off, off + 320);
      stream.pushFrame(new AudioFrame(data, 16000, 1, data.length));
    }
    stream.flush();
    stream.endInput();
    let final: stt.SpeechEvent | undefined;
    for await (const ev of stream) if (ev.type === stt.SpeechEventType.FINAL_TRANSCRIPT) final = ev;
    expect(final?.alternatives?.[0]?.text).toBe('eight eight one two six zero zero one');
    expect(final?.alternatives?.[0]?.metadata?.search).toMatch(/^digits-/);
    // (an exact-length digit grammar may leave a single distinct hypothesis)
    expect(final?.alternatives?.length).toBeGreaterThanOrEqual(1);
    // what the pipeline hands the engine with the turn's text
    expect(sttProvider.alternativesFor('eight eight one two six zero zero one')?.map((a) => a.text)).toEqual(
      final?.alternatives?.map((a) => a.text),
    );
    expect(sttProvider.alternativesFor('never said')).toBeUndefined();
    await sttProvider.close();
  });
});
