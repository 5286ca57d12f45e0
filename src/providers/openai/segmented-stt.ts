import {
  APIConnectionError,
  type APIConnectOptions,
  type AudioBuffer,
  stt,
  type VAD,
  VADEventType,
} from '@livekit/agents';

/**
 * Runs a non-streaming (one request per utterance) STT behind a VAD, like the framework's
 * `stt.StreamAdapter` — except that a failed request FAILS the stream.
 *
 * The framework adapter (1.9.0) logs a failed `recognize()` and carries on, so the utterance
 * is silently lost and an `stt.FallbackAdapter` around it never switches to the next
 * provider. Here the failure ends the stream with a non-retryable APIConnectionError (the
 * HTTP client already retried): the FallbackAdapter marks the provider unavailable, moves to
 * the next one and probes this one in the background until it transcribes again.
 */
export class SegmentedSTT extends stt.STT {
  readonly label: string;
  readonly inner: stt.STT;
  readonly vad: VAD;

  constructor(inner: stt.STT, vad: VAD) {
    super({
      streaming: true,
      interimResults: false,
      ...(inner.capabilities.keyterms !== undefined ? { keyterms: inner.capabilities.keyterms } : {}),
    });
    this.inner = inner;
    this.vad = vad;
    this.label = inner.label;
    inner.on('metrics_collected', (m) => this.emit('metrics_collected', m));
  }

  override get model(): string {
    return this.inner.model;
  }

  override get provider(): string {
    return this.inner.provider;
  }

  protected _recognize(buffer: AudioBuffer, abortSignal?: AbortSignal): Promise<stt.SpeechEvent> {
    return this.inner.recognize(buffer, abortSignal);
  }

  stream(options?: { connOptions?: APIConnectOptions }): stt.SpeechStream {
    return new SegmentedSpeechStream(this, options?.connOptions);
  }

  override async close(): Promise<void> {
    await this.inner.close();
  }
}

class SegmentedSpeechStream extends stt.SpeechStream {
  readonly label: string;
  readonly #owner: SegmentedSTT;

  constructor(owner: SegmentedSTT, connOptions?: APIConnectOptions) {
    super(owner, undefined, connOptions);
    this.#owner = owner;
    this.label = `segmented<${owner.label}>`;
  }

  protected async run(): Promise<void> {
    const vadStream = this.#owner.vad.stream();
    let failure: unknown;
    const forward = async () => {
      for await (const item of this.input) {
        if (failure !== undefined || this.abortSignal.aborted) break;
        if (typeof item === 'symbol') vadStream.flush();
        else vadStream.pushFrame(item);
      }
      try {
        vadStream.endInput();
      } catch {
        // closed already
      }
    };
    const recognize = async () => {
      for await (const ev of vadStream) {
        if (this.abortSignal.aborted) break;
        if (ev.type === VADEventType.START_OF_SPEECH) {
          this.queue.put({ type: stt.SpeechEventType.START_OF_SPEECH });
        } else if (ev.type === VADEventType.END_OF_SPEECH) {
          const speechEndTime = Date.now() - ev.silenceDuration - ev.inferenceDuration;
          this.queue.put({ type: stt.SpeechEventType.END_OF_SPEECH, speechEndTime });
          let result: stt.SpeechEvent;
          try {
            result = await this.#owner.inner.recognize(ev.frames, this.abortSignal);
          } catch (err) {
            if (this.abortSignal.aborted) return;
            failure = err;
            return;
          }
          if (result.alternatives?.[0]?.text) {
            this.queue.put({ ...result, speechEndTime: result.speechEndTime ?? speechEndTime });
          }
        }
      }
    };
    // forward() ends with the input; recognize() ends with the VAD stream or at the first
    // failed request (forward() then stops at its next frame).
    const forwarding = forward().catch(() => undefined);
    try {
      await recognize();
      if (failure === undefined) await forwarding;
    } finally {
      vadStream.close();
    }
    if (failure !== undefined) {
      const message = failure instanceof Error ? failure.message : String(failure);
      throw new APIConnectionError({
        message: `${this.#owner.label}: ${message}`,
        options: { retryable: false },
      });
    }
  }
}
