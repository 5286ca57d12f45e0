import type { VAD, VADStream } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';

export type SileroOptions = Parameters<typeof silero.VAD.load>[0];

const cache = new Map<string, Promise<VAD>>();

/**
 * Loads the silero VAD (ONNX model shipped in the plugin, CPU inference) once per process and
 * option set; one VAD instance serves any number of sessions (each gets its own stream).
 * Call it in the worker's prewarm so the first call does not pay the ~100 ms load.
 * The instance is {@link hardenVad hardened}.
 */
export function loadSileroVad(options: SileroOptions = {}): Promise<VAD> {
  const key = JSON.stringify(options ?? {});
  let vad = cache.get(key);
  if (!vad) {
    vad = silero.VAD.load({ forceCPU: true, ...options }).then(hardenVad);
    vad.catch(() => cache.delete(key));
    cache.set(key, vad);
  }
  return vad;
}

interface VadStreamInternals {
  closed: boolean;
  inputClosed: boolean;
  inputWriter: { close(): Promise<void> };
  output: { writable: WritableStream<unknown> };
  outputWriter: { releaseLock(): void };
  outputReader: { cancel(): Promise<void> };
}

const HARDENED = Symbol.for('voice-agent.vad.hardened');

/**
 * Works around two @livekit/agents 1.9.0 `VADStream` bugs that leave unhandled promise
 * rejections (fatal in a process without an unhandledRejection handler):
 * - `endInput()` closes `input.writable` while its own writer holds the lock → always
 *   rejects with "WritableStream is locked" (every STT stream adapter hits it);
 * - `close()` is not idempotent and does not await `output.writable.close()`, so closing a
 *   stream whose output is already closed rejects with "WritableStream is closed".
 * The patched methods do the same steps through the writer, once, and swallow those rejections.
 */
export function hardenVad<T extends VAD>(vad: T): T {
  const marked = vad as T & { [HARDENED]?: boolean };
  if (marked[HARDENED]) return vad;
  marked[HARDENED] = true;
  const stream = vad.stream.bind(vad);
  vad.stream = (): VADStream => {
    const s = stream();
    const internals = s as unknown as VadStreamInternals;
    s.endInput = () => {
      if (internals.inputClosed) throw new Error('Input is closed');
      if (internals.closed) throw new Error('Stream is closed');
      internals.inputClosed = true;
      internals.inputWriter.close().catch(() => undefined);
    };
    s.close = () => {
      if (internals.closed) return;
      internals.closed = true;
      try {
        internals.outputWriter.releaseLock();
      } catch {
        // already released
      }
      internals.outputReader.cancel().catch(() => undefined);
      internals.output.writable.close().catch(() => undefined);
    };
    return s;
  };
  return vad;
}
