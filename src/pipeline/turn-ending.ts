import { type stt, type VAD, type VADStream, voice } from '@livekit/agents';
import type { ConversationPort } from './engine-port.js';
import { SttTap } from './stt-tap.js';

/**
 * Flow-aware end of turn.
 *
 * @livekit/agents 1.9 ends a user turn (turnDetection 'vad') when silero reports end of
 * speech — after `minSilenceDuration` of silence, 550 ms by default — and then waits until the
 * endpointing `minDelay` has passed since the caller's last voiced frame and a final
 * transcript exists. Both are fixed per session, so every answer paid ~0.55 s however short
 * it was. The engine knows what it is waiting for: when the transcript heard so far already
 * completes the current state's expectation (`port.completesTurn`), the caller need not be
 * waited for any longer.
 *
 * How it bends the framework, all through public or per-stream APIs:
 * - the call's silero streams end speech after `shortSilenceMs` (VADStream.updateOptions on
 *   each stream of this call only; the model stays shared);
 * - the endpointing `minDelay` is `longSilenceMs` (the old wait) by default, so open answers
 *   still wait as long as before; at VAD end of speech, if the partial transcript completes
 *   the expectation, `session.updateOptions` lowers it to `shortSilenceMs` for this turn —
 *   the framework reads it synchronously right after emitting the user-state change;
 * - the recogniser is flushed then, and if its final transcript is not there within
 *   `finalGraceMs` the interim stands in for it (src/pipeline/stt-tap.ts): the framework
 *   commits a turn only on a final transcript, and the recogniser's own comes after its
 *   end-of-utterance silence and a last decoding pass;
 * - a final transcript that no longer completes the expectation, or the caller speaking
 *   again, restores the long wait before the framework acts on it.
 *
 * Mode 'fixed' is the previous behaviour (framework endpointing only), kept as a switch for
 * the benchmarks and as a fallback.
 */

export type TurnEndingMode = 'flow' | 'fixed';

export interface TurnEndingOptions {
  /** Default 'flow'. */
  mode?: TurnEndingMode;
  /** Silence that ends a turn whose transcript completes the expectation. Default 200 ms. */
  shortSilenceMs?: number;
  /** Silence that ends any other turn (the fixed path's wait). Default 550 ms. */
  longSilenceMs?: number;
  /**
   * After an early end, how long the recogniser's own final transcript is awaited before the
   * interim that completed the answer stands in for it. Default 100 ms.
   */
  finalGraceMs?: number;
}

export const DEFAULT_SHORT_SILENCE_MS = 200;
/** silero's default `minSilenceDuration`: what every turn waited before. */
export const DEFAULT_LONG_SILENCE_MS = 550;
export const DEFAULT_FINAL_GRACE_MS = 100;

export interface TurnEndingStats {
  /** User turns committed. */
  turns: number;
  /** Of those, turns ended after the short silence. */
  early: number;
}

export class FlowTurnEnding {
  readonly mode: TurnEndingMode;
  readonly shortSilenceMs: number;
  readonly longSilenceMs: number;
  readonly finalGraceMs: number;
  readonly stats: TurnEndingStats = { turns: 0, early: 0 };
  private readonly port: ConversationPort;
  private session?: voice.AgentSession;
  private sttTap?: SttTap;
  private finals: string[] = [];
  private interim = '';
  private delayMs: number;
  private early = false;

  constructor(port: ConversationPort, options: TurnEndingOptions = {}) {
    this.port = port;
    this.mode = port.completesTurn ? (options.mode ?? 'flow') : 'fixed';
    this.shortSilenceMs = options.shortSilenceMs ?? DEFAULT_SHORT_SILENCE_MS;
    this.longSilenceMs = options.longSilenceMs ?? DEFAULT_LONG_SILENCE_MS;
    this.finalGraceMs = options.finalGraceMs ?? DEFAULT_FINAL_GRACE_MS;
    this.delayMs = this.longSilenceMs;
  }

  get enabled(): boolean {
    return this.mode === 'flow';
  }

  /** The session's initial endpointing `minDelay` (ms) for this mode. */
  initialMinDelayMs(fixedDefault: number): number {
    return this.enabled ? this.longSilenceMs : fixedDefault;
  }

  /** The call's VAD: the shared model, with this call's streams ending speech after the short silence. */
  wrapVad(vad: VAD): VAD {
    if (!this.enabled) return vad;
    const minSilenceDuration = this.shortSilenceMs;
    return forwardingProxy(vad, 'stream', () => {
      const stream = vad.stream() as VADStream & { updateOptions?: (o: object) => void };
      stream.updateOptions?.({ minSilenceDuration });
      return stream;
    });
  }

  /** The call's STT: the same provider, its latest stream tapped so a turn can be ended early. */
  wrapStt(sttProvider: stt.STT): stt.STT {
    if (!this.enabled) return sttProvider;
    return forwardingProxy(sttProvider, 'stream', (...args: Parameters<stt.STT['stream']>) => {
      this.sttTap = new SttTap(sttProvider.stream(...args));
      return this.sttTap.proxy();
    });
  }

  /** Follows the session's transcripts and user state; returns the unsubscribe function. */
  attach(session: voice.AgentSession): () => void {
    if (!this.enabled) return () => undefined;
    this.session = session;
    const E = voice.AgentSessionEventTypes;
    const onTranscript = (ev: voice.UserInputTranscribedEvent) => this.onTranscript(ev);
    const onUserState = (ev: voice.UserStateChangedEvent) => this.onUserState(ev);
    const onItem = (ev: voice.ConversationItemAddedEvent) => this.onItem(ev);
    session.on(E.UserInputTranscribed, onTranscript);
    session.on(E.UserStateChanged, onUserState);
    session.on(E.ConversationItemAdded, onItem);
    return () => {
      session.off(E.UserInputTranscribed, onTranscript);
      session.off(E.UserStateChanged, onUserState);
      session.off(E.ConversationItemAdded, onItem);
      this.session = undefined;
    };
  }

  /** What the caller has said in this turn so far (finals, then the interim). */
  get heardSoFar(): string {
    return [...this.finals, this.interim].filter(Boolean).join(' ').trim();
  }

  private completes(text: string): boolean {
    if (!text) return false;
    try {
      return this.port.completesTurn?.(text) ?? false;
    } catch {
      return false; // a failing check must not cut the caller off
    }
  }

  private onTranscript(ev: voice.UserInputTranscribedEvent): void {
    if (ev.isFinal) {
      this.finals.push(ev.transcript);
      this.interim = '';
      // The framework decides on this final right after this event: keep the short wait only
      // if the whole turn still completes the expectation.
      if (this.early && !this.completes(this.heardSoFar)) {
        this.early = false;
        this.setMinDelay(this.longSilenceMs);
      }
    } else {
      this.interim = ev.transcript;
    }
  }

  private onUserState(ev: voice.UserStateChangedEvent): void {
    if (ev.newState === 'speaking') {
      this.early = false;
      this.setMinDelay(this.longSilenceMs);
      return;
    }
    if (ev.oldState !== 'speaking') return;
    // VAD end of speech after the short silence: the framework runs its end-of-turn check
    // synchronously after this event, with whatever minDelay is set now.
    if (this.completes(this.heardSoFar)) {
      this.early = true;
      this.setMinDelay(this.shortSilenceMs);
      this.sttTap?.endUtterance(this.finalGraceMs);
    } else {
      this.setMinDelay(this.longSilenceMs);
    }
  }

  private onItem(ev: voice.ConversationItemAddedEvent): void {
    const item = ev.item as { type?: string; role?: string };
    if (item.type !== 'message' || item.role !== 'user') return;
    this.stats.turns++;
    if (this.early) this.stats.early++;
    this.early = false;
    this.finals = [];
    this.interim = '';
    this.setMinDelay(this.longSilenceMs);
  }

  private setMinDelay(ms: number): void {
    if (ms === this.delayMs || !this.session) return;
    this.delayMs = ms;
    try {
      this.session.updateOptions({ turnHandling: { endpointing: { minDelay: ms } } });
    } catch {
      // session not running (closing): nothing left to end
    }
  }
}

/**
 * `target` with one method replaced; every other property is read from (and every method
 * bound to) the target itself, so classes with #private fields, getters and EventEmitter
 * state keep working and `instanceof` still holds.
 */
function forwardingProxy<T extends object, K extends keyof T>(target: T, key: K, replacement: T[K]): T {
  return new Proxy(target, {
    get(t, prop) {
      if (prop === key) return replacement;
      const value = Reflect.get(t, prop, t) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
    set: (t, prop, value) => Reflect.set(t, prop, value, t),
  });
}
