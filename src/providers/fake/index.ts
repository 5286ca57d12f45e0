/**
 * Instant FAKE providers (no recognition, no synthesis, no model): for unit tests, the
 * simulator's default and the pipeline benchmark. Never selected by configuration.
 */

export { FakeLLM, type FakeLLMOptions, lastUserText } from './fake-llm.js';
export { FakeSTT, type FakeSTTOptions, frameDbfs } from './fake-stt.js';
export { FakeTTS, type FakeTTSOptions } from './fake-tts.js';
