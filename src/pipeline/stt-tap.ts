import { stt } from '@livekit/agents';

/**
 * A call's STT stream as the framework reads it, with one extra ability: ending the current
 * utterance now with the transcript heard so far.
 *
 * The framework commits a user turn only on a final transcript, and a streaming recogniser
 * gives one after its own end-of-utterance silence plus a last decoding pass — on a busy
 * machine pocketsphinx's takes hundreds of milliseconds. When the flow already knows the
 * interim transcript is a whole answer, {@link SttTap.endUtterance} flushes the recogniser
 * (its final pass is more accurate than its interims, so it gets a short grace to answer),
 * then puts the interim in front of the framework as the utterance's final transcript and
 * drops what the recogniser still says about that utterance, so the same words never reach
 * the engine twice.
 */
export class SttTap {
  readonly stream: stt.SpeechStream;
  private readonly pending: stt.SpeechEvent[] = [];
  private readonly ended = new Set<string>();
  /** Utterances flushed early whose own final transcript is still awaited (grace timers). */
  private readonly waiting = new Map<string, NodeJS.Timeout>();
  private inflight?: Promise<IteratorResult<stt.SpeechEvent>>;
  private wake?: () => void;
  private interim?: { alternative: stt.SpeechData; requestId: string };

  constructor(stream: stt.SpeechStream) {
    this.stream = stream;
  }

  /** The stream the framework iterates (everything else forwards to the real stream). */
  proxy(): stt.SpeechStream {
    const iterator: AsyncIterableIterator<stt.SpeechEvent> = {
      next: () => this.next(),
      [Symbol.asyncIterator]: () => iterator,
    };
    return new Proxy(this.stream, {
      get: (target, prop) => {
        if (prop === Symbol.asyncIterator) return () => iterator;
        if (prop === 'next') return iterator.next;
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
      // Setters (startTimeOffset) run on the real stream, whose fields they write.
      set: (target, prop, value) => Reflect.set(target, prop, value, target),
    });
  }

  /**
   * Ends the current utterance: flushes the recogniser and, unless its own final transcript
   * arrives within `graceMs`, hands the framework the latest interim as the final one. False
   * when there is no interim to end (none yet, or already finalized).
   */
  endUtterance(graceMs: number): boolean {
    const interim = this.interim;
    if (!interim?.alternative.text || !interim.requestId) return false;
    this.interim = undefined;
    try {
      this.stream.flush();
    } catch {
      // input already closed: nothing more will come for this utterance anyway
    }
    const { requestId, alternative } = interim;
    const timer = setTimeout(() => {
      this.waiting.delete(requestId);
      this.ended.add(requestId);
      this.pending.push({
        type: stt.SpeechEventType.FINAL_TRANSCRIPT,
        requestId,
        alternatives: [alternative],
      });
      this.wake?.();
    }, graceMs);
    timer.unref?.();
    this.waiting.set(requestId, timer);
    return true;
  }

  private async next(): Promise<IteratorResult<stt.SpeechEvent>> {
    for (;;) {
      const injected = this.pending.shift();
      if (injected) return { value: injected, done: false };
      this.inflight ??= this.stream.next();
      const woken = new Promise<null>((resolve) => {
        this.wake = () => resolve(null);
      });
      const result = await Promise.race([this.inflight, woken]);
      this.wake = undefined;
      if (result === null) continue; // an injected final jumps the queue
      this.inflight = undefined;
      if (result.done || this.keep(result.value)) return result;
    }
  }

  /** Follows interims; drops transcripts of an utterance ended early. */
  private keep(ev: stt.SpeechEvent): boolean {
    const id = ev.requestId ?? '';
    const isTranscript =
      ev.type === stt.SpeechEventType.INTERIM_TRANSCRIPT ||
      ev.type === stt.SpeechEventType.PREFLIGHT_TRANSCRIPT ||
      ev.type === stt.SpeechEventType.FINAL_TRANSCRIPT;
    if (isTranscript && this.ended.has(id)) {
      if (ev.type === stt.SpeechEventType.FINAL_TRANSCRIPT) this.ended.delete(id);
      return false;
    }
    if (ev.type === stt.SpeechEventType.INTERIM_TRANSCRIPT) {
      const alternative = ev.alternatives?.[0];
      this.interim = alternative ? { alternative, requestId: id } : undefined;
    } else if (ev.type === stt.SpeechEventType.FINAL_TRANSCRIPT) {
      this.interim = undefined;
      clearTimeout(this.waiting.get(id));
      this.waiting.delete(id);
    }
    return true;
  }
}
