import { ReadableStream, type ReadableStreamDefaultController } from 'node:stream/web';
import { voice } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';

/**
 * Audio I/O for an AgentSession without a room (simulator, tests, benchmarks). Assign before
 * `session.start()`:
 *
 *   session.input.audio = new PushAudioInput();
 *   session.output.audio = new CaptureAudioOutput({ realtime: true });
 *
 * With no room passed to start(), the session uses exactly these.
 */

/** Caller audio pushed frame by frame (any sample rate; the VAD and STT resample). */
export class PushAudioInput extends voice.AudioInput {
  private controller?: ReadableStreamDefaultController<AudioFrame>;
  private ended = false;

  constructor() {
    super();
    const source = new ReadableStream<AudioFrame>({
      start: (controller) => {
        this.controller = controller;
      },
    });
    this.multiStream.addInputStream(source);
  }

  push(frame: AudioFrame): void {
    if (this.ended) return;
    this.controller?.enqueue(frame);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    try {
      this.controller?.close();
    } catch {
      // already closed by a reader cancel
    }
  }

  override async close(): Promise<void> {
    this.end();
    await super.close();
  }
}

export interface CapturedSegment {
  /** Epoch ms when the first frame of the segment reached the output. */
  startedAt: number;
  frames: AudioFrame[];
  /** Audio captured for the segment, ms. */
  durationMs: number;
  /** Audio that "played" before the segment ended or was cut, ms. */
  playedMs: number;
  interrupted: boolean;
}

export interface CaptureAudioOutputOptions {
  /** Sample rate the framework resamples agent audio to. Default 16000; undefined keeps TTS rate. */
  sampleRate?: number;
  /**
   * Pretend to play in real time: a segment finishes (and the agent stops "speaking") only
   * after its duration has elapsed since its first frame, so interruptions can cut it.
   * false: every segment finishes as soon as it is flushed. Default true.
   */
  realtime?: boolean;
  /** Called for the first frame of each segment (the moment the agent's audio leaves us). */
  onFirstFrame?: (at: number) => void;
}

/**
 * Captures the agent's audio instead of playing it. Follows the AudioOutput protocol the way
 * the room output does: the first frame of a segment emits playbackStarted, flush() ends the
 * segment and playbackFinished follows once it has played (or at once when not realtime),
 * clearBuffer() cuts the segment short and reports how much of it was heard.
 */
export class CaptureAudioOutput extends voice.AudioOutput {
  readonly segments: CapturedSegment[] = [];
  private readonly realtime: boolean;
  private readonly onFirstFrame?: (at: number) => void;
  private current?: CapturedSegment;
  private flushed = false;
  private cleared = false;
  private timer?: NodeJS.Timeout;

  constructor(options: CaptureAudioOutputOptions = {}) {
    super('sampleRate' in options ? options.sampleRate : 16000, undefined, { pause: false });
    this.realtime = options.realtime ?? true;
    this.onFirstFrame = options.onFirstFrame;
  }

  /** Agent audio that played, in order (interrupted segments cut where they stopped). */
  playedFrames(): AudioFrame[] {
    const out: AudioFrame[] = [];
    for (const seg of this.segments) {
      let remainingMs = seg.playedMs;
      for (const frame of seg.frames) {
        if (remainingMs <= 0) break;
        out.push(frame);
        remainingMs -= (frame.samplesPerChannel / frame.sampleRate) * 1000;
      }
    }
    return out;
  }

  /** True while a segment is being captured or "played". */
  get busy(): boolean {
    return this.current !== undefined;
  }

  override async captureFrame(frame: AudioFrame): Promise<void> {
    if (this.cleared && this.current) return; // the rest of a cut segment
    await super.captureFrame(frame);
    if (!this.current) {
      const now = Date.now();
      this.current = { startedAt: now, frames: [], durationMs: 0, playedMs: 0, interrupted: false };
      this.flushed = false;
      this.cleared = false;
      this.segments.push(this.current);
      this.onPlaybackStarted(now);
      this.onFirstFrame?.(now);
    }
    this.current.frames.push(frame);
    this.current.durationMs += (frame.samplesPerChannel / frame.sampleRate) * 1000;
  }

  override flush(): void {
    super.flush();
    const seg = this.current;
    if (!seg || this.flushed) return;
    this.flushed = true;
    if (this.cleared) {
      this.finish(true);
      return;
    }
    const remaining = this.realtime ? seg.startedAt + seg.durationMs - Date.now() : 0;
    if (remaining <= 0) {
      this.finish(false);
    } else {
      this.timer = setTimeout(() => this.finish(false), remaining);
    }
  }

  override clearBuffer(): void {
    const seg = this.current;
    if (!seg || this.cleared) return;
    this.cleared = true;
    if (this.flushed) {
      this.finish(true);
    }
    // not flushed yet: the framework flushes after it stops forwarding; finish then
  }

  private finish(interrupted: boolean): void {
    const seg = this.current;
    if (!seg) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const elapsed = this.realtime ? Date.now() - seg.startedAt : seg.durationMs;
    seg.interrupted = interrupted;
    seg.playedMs = interrupted ? Math.min(seg.durationMs, Math.max(0, elapsed)) : seg.durationMs;
    this.current = undefined;
    this.flushed = false;
    this.cleared = false;
    this.onPlaybackFinished({ playbackPosition: seg.playedMs / 1000, interrupted });
  }
}
