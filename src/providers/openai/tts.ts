import type { APIConnectOptions } from '@livekit/agents';
import * as openai from '@livekit/agents-plugin-openai';
import type { OpenAI } from 'openai';

/**
 * OpenAI(-compatible) TTS whose failures end the audio instead of rejecting.
 *
 * In @livekit/agents 1.9.0 a failing `tts.ChunkedStream` rejects a promise nobody handles
 * (the constructor's `mainTask()` call): an unhandled rejection per failed sentence, fatal
 * in a process without a handler. Here a failed request is reported as a `tts_error` event
 * on this TTS (recoverable when a fallback provider follows, so the session does not count
 * it towards closing) and the stream simply ends without audio — which the framework
 * FallbackAdapter treats as a failure and moves on to the next TTS.
 */
export interface OpenAITTSOptions {
  client: OpenAI;
  model: string;
  voice: string;
  speed?: number;
  instructions?: string;
  /** A fallback provider follows this one (its errors are then recoverable). */
  hasFallback?: boolean;
}

export class OpenAITTS extends openai.TTS {
  readonly #opts: OpenAITTSOptions;

  constructor(opts: OpenAITTSOptions) {
    super({
      client: opts.client,
      model: opts.model,
      voice: opts.voice as openai.TTSOptions['voice'],
      ...(opts.speed !== undefined ? { speed: opts.speed } : {}),
      ...(opts.instructions !== undefined ? { instructions: opts.instructions } : {}),
    });
    this.#opts = opts;
  }

  override synthesize(
    text: string,
    connOptions?: APIConnectOptions,
    abortSignal?: AbortSignal,
  ): openai.ChunkedStream {
    const request = this.#opts.client.audio.speech.create(
      {
        input: text,
        model: this.#opts.model,
        voice: this.#opts.voice as openai.TTSOptions['voice'],
        response_format: 'pcm',
        speed: this.#opts.speed ?? 1,
        ...(this.#opts.instructions !== undefined ? { instructions: this.#opts.instructions } : {}),
      },
      abortSignal ? { signal: abortSignal } : {},
    );
    // the stream awaits it; this only keeps an early failure from being "unhandled" meanwhile
    request.catch(() => undefined);
    return new GuardedChunkedStream(
      this,
      text,
      request,
      this.#opts.hasFallback ?? false,
      connOptions,
      abortSignal,
    );
  }
}

class GuardedChunkedStream extends openai.ChunkedStream {
  readonly #owner: OpenAITTS;
  readonly #recoverable: boolean;

  constructor(
    owner: OpenAITTS,
    text: string,
    request: Promise<unknown>,
    recoverable: boolean,
    connOptions?: APIConnectOptions,
    abortSignal?: AbortSignal,
  ) {
    super(owner, text, request, connOptions, abortSignal);
    this.#owner = owner;
    this.#recoverable = recoverable;
  }

  protected override async run(): Promise<void> {
    try {
      await super.run();
    } catch (err) {
      if (this.abortSignal.aborted) return;
      const error = err instanceof Error ? err : new Error(String(err));
      try {
        // Listeners: the FallbackAdapter (re-emits to the session) and, in 1.9.0, the
        // per-speech tts.StreamAdapter the framework wraps around non-streaming TTS, which
        // re-emits to nobody and so throws "Unhandled error" back into this call.
        if (this.#owner.listenerCount('error') > 0) {
          this.#owner.emit('error', {
            type: 'tts_error',
            timestamp: Date.now(),
            label: this.#owner.label,
            error,
            recoverable: this.#recoverable,
          });
        }
      } catch {
        // see above
      }
      this.queue.close();
    }
  }
}
