import { FakeSTT } from './fake-stt.js';
import { FakeTTS } from './fake-tts.js';

/**
 * PROVIDER=fake — instant providers for load tests and benchmarks (`npm run bench:load`),
 * never for real callers: the agent understands nothing and says a tone.
 *
 * Everything else of a call runs for real: the room, silero VAD and turn detection, the
 * conversation engine and its templates, the booking store, latency metrics and call events.
 * Only recognition and synthesis cost nothing, so a load test measures our pipeline and the
 * framework rather than pocketsphinx / flite / a remote API.
 *
 * STT: a streaming {@link FakeSTT}. In a room the AgentSession feeds it the caller's audio
 * continuously (next to the VAD, which decides the end of the turn); the fake's own energy
 * detector (a frame above -45 dBFS is speech, 300 ms of quieter audio ends it) finds each
 * utterance and hands out the next transcript of a fixed rotation, {@link LOAD_TEST_TRANSCRIPTS}:
 * a booking that reaches the read-back, then "no, make it <day>" corrections for ever, so a
 * call keeps taking turns (each answered with a long read-back) without ending the flow.
 * Whatever the caller actually says does not matter, only that it is audible and followed by
 * silence (as a phone line is between utterances).
 *
 * TTS: {@link FakeTTS}, an audible 440 Hz tone of 12 ms per character, produced instantly.
 */

/** The opening of every fake call: the appointment-booking flow up to the read-back. */
export const LOAD_TEST_OPENING = [
  'hi i would like to book an appointment',
  'my name is john smith',
  'a check up please',
  'next tuesday',
  'three thirty p m',
  'four one five five five five two six seven one',
] as const;

/** Then, for as long as the call lasts: a correction at the read-back (re-read each time). */
export const LOAD_TEST_LOOP = [
  'no make it wednesday',
  'no make it thursday',
  'no make it friday',
  'no make it monday',
  'no make it tuesday',
] as const;

export const LOAD_TEST_TRANSCRIPTS = [...LOAD_TEST_OPENING, ...LOAD_TEST_LOOP] as const;

/** The transcript of the `index`-th utterance of a call (0-based). */
export function loadTestTranscript(index: number): string {
  if (index < LOAD_TEST_OPENING.length) return LOAD_TEST_OPENING[index]!;
  return LOAD_TEST_LOOP[(index - LOAD_TEST_OPENING.length) % LOAD_TEST_LOOP.length]!;
}

export interface FakeProviderSet {
  stt: FakeSTT;
  tts: FakeTTS;
}

/** One call's fake providers (each call gets its own: the rotation is per call). */
export function createLoadTestProviders(): FakeProviderSet {
  return {
    stt: new FakeSTT({
      fallback: ({ index }) => loadTestTranscript(index),
      // Recorded utterances pause up to ~200 ms between words; 300 ms keeps one per turn and
      // is still well inside the VAD's end of speech (silero ~550 ms + endpointing delay).
      endSilenceMs: 300,
    }),
    tts: new FakeTTS({ sampleRate: 16000 }),
  };
}
