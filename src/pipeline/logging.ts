import { initializeLogger, loggerOptions } from '@livekit/agents';

/**
 * @livekit/agents throws "logger not initialized" from almost every constructor unless its
 * process-wide logger was set up first (the worker CLI does it; tests, the simulator and the
 * benchmark must). Idempotent: an existing logger is kept.
 */
export function ensureAgentsLogger(level: string = process.env.LOG_LEVEL ?? 'info'): void {
  if (!loggerOptions()) initializeLogger({ pretty: false, level });
}

/**
 * For processes that run sessions in-process (simulate CLI, benchmarks): @livekit/agents
 * 1.9.0 leaves some provider failures as unhandled promise rejections (a failed
 * `tts.ChunkedStream`, an `stt.FallbackAdapter` switch), which terminate Node by default.
 * The worker's job processes already log them (the framework installs a handler there).
 * Returns a function that removes the handler.
 */
export function guardUnhandledRejections(onRejection: (reason: unknown) => void = () => {}): () => void {
  const handler = (reason: unknown) => onRejection(reason);
  process.on('unhandledRejection', handler);
  return () => {
    process.off('unhandledRejection', handler);
  };
}
