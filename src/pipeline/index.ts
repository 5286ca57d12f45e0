/**
 * The real-time pipeline core on @livekit/agents 1.9: the conversation engine as the
 * session's LLM, audio I/O without a room, latency metering, call recording and the call
 * simulator. See docs in each module.
 */
export {
  CaptureAudioOutput,
  type CaptureAudioOutputOptions,
  type CapturedSegment,
  PushAudioInput,
} from './audio-io.js';
export { type PipelineCall, type PipelineCallOptions, startPipelineCall } from './call.js';
export { CallRecorder, type CallRecorderOptions } from './call-recorder.js';
export {
  ConversationAgent,
  ConversationController,
  type ConversationControllerOptions,
  ConversationLLM,
  DEFAULT_APOLOGY,
  DEFAULT_STT_APOLOGY,
  type Exchange,
  lastUserMessage,
  type ReplySource,
} from './conversation-adapter.js';
export type {
  Action,
  ConversationPort,
  ConversationSnapshot,
  MaybePromise,
  Reply,
  TransitionRecord,
  UserTextMeta,
} from './engine-port.js';
export { reply } from './engine-port.js';
export { type ErrorReporter, errorFromSessionEvent, type PipelineErrorRecord } from './errors.js';
export { FakeConversation, type FakeConversationOptions } from './fake-conversation.js';
export {
  type CallLatencySummary,
  LATENCY_STAGES,
  LatencyMeter,
  type LatencyMeterOptions,
  type LatencyStage,
  percentile,
  type StageSummary,
  summarize,
  type TurnLatency,
  turnLatencyHistogram,
} from './latency-meter.js';
export { ensureAgentsLogger, guardUnhandledRejections } from './logging.js';
export { createPipelineSession, type PipelineSessionOptions } from './session.js';
export {
  type CallerScript,
  type CallerTurn,
  type SimulateCallOptions,
  type SimulationResult,
  type SimulationTurn,
  type Synthesizer,
  simulateCall,
} from './simulator.js';
export { hardenVad, loadSileroVad, type SileroOptions } from './vad.js';
