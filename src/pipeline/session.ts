import { type llm, type stt, type tts, type VAD, voice } from '@livekit/agents';
import type { TurnEndingOptions } from './turn-ending.js';

/**
 * Builds the AgentSession every call uses (worker and simulator alike), with defaults chosen
 * for phone calls driven by our conversation engine. Things @livekit/agents 1.9 does by
 * default that we must turn off explicitly:
 * - `vad` omitted → a LiveKit *inference* VAD is provisioned; we always pass our silero VAD;
 * - `turnDetection` omitted → a LiveKit inference turn detector (cloud/model download);
 *   we use 'vad' (end of turn = VAD end of speech + endpointing delay);
 * - preemptive generation is ON by default: the LLM runs on interim transcripts and the
 *   result is discarded if the transcript changes — our "LLM" is the state machine, which
 *   must see each user turn exactly once, so it is off;
 * - interruption mode undefined → adaptive (cloud) detection in dev mode; we use 'vad';
 * - userAwayTimeout 15 s only flips the user state once; the controller runs its own
 *   no-input timer instead, so it is disabled here.
 */
export interface PipelineSessionOptions {
  stt: stt.STT;
  tts: tts.TTS;
  vad: VAD;
  /** Usually omitted: the ConversationAgent carries the engine as its LLM. */
  llm?: llm.LLM;
  /**
   * Wait from the caller's last voiced frame before the turn is committed. Default 500 ms
   * (framework); startPipelineCall sets it from `turnEnding` unless given.
   */
  minEndpointingDelayMs?: number;
  maxEndpointingDelayMs?: number;
  /** Caller speech that interrupts the agent. Default enabled, 500 ms minimum. */
  interruptions?: { enabled?: boolean; minDurationMs?: number; resumeFalseInterruption?: boolean };
  /**
   * Interruptions are ignored for this long after the agent first speaks (echo warm-up).
   * null disables (the simulator has no echo). Default: framework's (3000 ms, none for outbound SIP).
   */
  aecWarmupMs?: number | null;
  /** Timeout / retry settings for STT and TTS requests (framework connOptions). */
  providerTimeoutMs?: number;
  maxRetry?: number;
  /** Consecutive unrecoverable LLM/TTS errors before the framework closes the session. Default 3. */
  maxUnrecoverableErrors?: number;
  /**
   * Which media path and end of turn (`PIPELINE_PATH`): 'fast' (default) or 'classic' (the
   * framework's defaults before issue 20); the three options below override its parts.
   */
  path?: PipelinePath;
  /** Flow-aware end of turn (src/pipeline/turn-ending.ts); applied by startPipelineCall. */
  turnEnding?: TurnEndingOptions;
  /** Drop the TTS's leading silence of each reply (src/pipeline/leading-silence.ts). */
  trimTtsSilence?: boolean;
  /** Caller-audio frame size the room input reads, ms (src/pipeline/room-input-frames.ts). */
  inputFrameMs?: number;
}

export type PipelinePath = 'fast' | 'classic';

/** What each path means; explicit options win over it. */
export function pipelinePathOptions(
  path: PipelinePath,
): Required<Pick<PipelineSessionOptions, 'turnEnding' | 'trimTtsSilence' | 'inputFrameMs'>> {
  return path === 'classic'
    ? { turnEnding: { mode: 'fixed' }, trimTtsSilence: false, inputFrameMs: 10 }
    : { turnEnding: { mode: 'flow' }, trimTtsSilence: true, inputFrameMs: 20 };
}

export function createPipelineSession(options: PipelineSessionOptions): voice.AgentSession {
  const conn = {
    timeoutMs: options.providerTimeoutMs ?? 8000,
    maxRetry: options.maxRetry ?? 1,
    retryIntervalMs: 250,
  };
  return new voice.AgentSession({
    stt: options.stt,
    tts: options.tts,
    vad: options.vad,
    ...(options.llm ? { llm: options.llm } : {}),
    userAwayTimeout: null,
    ...(options.aecWarmupMs !== undefined ? { aecWarmupDuration: options.aecWarmupMs } : {}),
    connOptions: {
      sttConnOptions: conn,
      ttsConnOptions: conn,
      llmConnOptions: { ...conn, maxRetry: 0 },
      maxUnrecoverableErrors: options.maxUnrecoverableErrors ?? 3,
    },
    turnHandling: {
      turnDetection: 'vad',
      endpointing: {
        mode: 'fixed',
        minDelay: options.minEndpointingDelayMs ?? 500,
        maxDelay: options.maxEndpointingDelayMs ?? 3000,
      },
      interruption: {
        enabled: options.interruptions?.enabled ?? true,
        mode: 'vad',
        minDuration: options.interruptions?.minDurationMs ?? 500,
        resumeFalseInterruption: options.interruptions?.resumeFalseInterruption ?? true,
      },
      preemptiveGeneration: { enabled: false },
    },
  });
}
