/**
 * Instant FAKE providers (no recognition, no synthesis, no model): for unit tests, the
 * simulator's default and the pipeline benchmark. Selected by configuration only as
 * PROVIDER=fake, for load tests (./load-test.ts); never for real callers.
 */

export { FakeLLM, type FakeLLMOptions, lastUserText } from './fake-llm.js';
export { FakeSTT, type FakeSTTOptions, frameDbfs } from './fake-stt.js';
export { FakeTTS, type FakeTTSOptions } from './fake-tts.js';
export {
  createLoadTestProviders,
  LOAD_TEST_LOOP,
  LOAD_TEST_OPENING,
  LOAD_TEST_TRANSCRIPTS,
  loadTestTranscript,
} from './load-test.js';
