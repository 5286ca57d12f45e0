import type { voice } from '@livekit/agents';

/**
 * A failure on the real-time path, in the shape of an `error` call event (minus the id).
 * Provider failures, engine failures and simulator problems all become one of these; the
 * call recorder turns each into an event, the simulator lists them in its result.
 */
export interface PipelineErrorRecord {
  /** e.g. engine_error, engine_timeout, stt_error, tts_error, llm_error, provider_unavailable, no_reply */
  error_type: string;
  message: string;
  severity: 'low' | 'medium' | 'high' | 'critical';
  /** True when the call carried on (retry, fallback provider or spoken apology worked). */
  recoverable: boolean;
  context?: Record<string, unknown>;
  /** Epoch ms. */
  at: number;
}

export type ErrorReporter = (error: PipelineErrorRecord) => void;

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** Converts an AgentSession `error` event (STT/LLM/TTS failure) into a record. */
export function errorFromSessionEvent(ev: voice.ErrorEvent): PipelineErrorRecord {
  const inner = ev.error as { type?: string; label?: string; error?: unknown; recoverable?: boolean };
  const type = inner.type ?? 'pipeline_error';
  const recoverable = inner.recoverable ?? false;
  return {
    error_type: type,
    message: errorMessage(inner.error ?? ev.error),
    // A provider failure without recovery means the caller heard nothing for that turn.
    severity: recoverable ? 'low' : 'medium',
    recoverable,
    context: { provider: inner.label ?? 'unknown' },
    at: ev.createdAt,
  };
}
