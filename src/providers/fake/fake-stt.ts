import { type APIConnectOptions, type AudioBuffer, asLanguageCode, mergeFrames, stt } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';

/**
 * FAKE speech-to-text for tests, benchmarks and the simulator. It recognises nothing: the
 * transcript of each utterance is handed to it through a side channel.
 *
 * How it decides what was "said":
 * - {@link FakeSTT.pushTranscript} queues transcripts (FIFO). Each utterance the stream detects
 *   consumes the next queued transcript. The simulator queues the `say` text of a caller turn
 *   just before it plays that turn's audio.
 * - When the queue is empty, `fallback({ audioMs, index })` is asked (default: a placeholder
 *   `"utterance <n> (<ms> ms)"`, so a turn is never silently dropped).
 *
 * How it finds utterances (streaming mode): frame energy. A frame whose RMS is above
 * `speechThresholdDbfs` is speech; once `endSilenceMs` of quieter audio follows at least
 * `minSpeechMs` of speech, it emits START_OF_SPEECH … FINAL_TRANSCRIPT + END_OF_SPEECH
 * immediately (zero recognition latency). A flush also ends an open utterance.
 * `recognize()` (the non-streaming path, e.g. behind a VAD StreamAdapter) consumes the next
 * transcript the same way.
 */
export interface FakeSTTOptions {
  /** Transcripts to hand out, in order. More can be queued with pushTranscript(). */
  transcripts?: string[];
  /** Asked for a transcript when the queue is empty. */
  fallback?: (info: { audioMs: number; index: number }) => string;
  /** RMS level above which a frame counts as speech. Default -45 dBFS. */
  speechThresholdDbfs?: number;
  /** Quiet audio that ends an utterance. Default 250 ms. */
  endSilenceMs?: number;
  /** Shorter bursts are ignored as noise. Default 80 ms. */
  minSpeechMs?: number;
  /** Reported language. Default 'en'. */
  language?: string;
}

const defaultFallback = ({ audioMs, index }: { audioMs: number; index: number }) =>
  `utterance ${index + 1} (${Math.round(audioMs)} ms)`;

export class FakeSTT extends stt.STT {
  label = 'fake.STT';
  readonly options: Required<Omit<FakeSTTOptions, 'transcripts'>>;
  private readonly queue: string[];
  private utterances = 0;

  constructor(options: FakeSTTOptions = {}) {
    super({ streaming: true, interimResults: false, alignedTranscript: false });
    this.queue = [...(options.transcripts ?? [])];
    this.options = {
      fallback: options.fallback ?? defaultFallback,
      speechThresholdDbfs: options.speechThresholdDbfs ?? -45,
      endSilenceMs: options.endSilenceMs ?? 250,
      minSpeechMs: options.minSpeechMs ?? 80,
      language: options.language ?? 'en',
    };
  }

  override get model(): string {
    return 'fake';
  }

  override get provider(): string {
    return 'fake';
  }

  /** Queue the transcript of the next utterance. */
  pushTranscript(text: string): void {
    this.queue.push(text);
  }

  /** Transcripts queued but not yet handed out. */
  get pending(): readonly string[] {
    return this.queue;
  }

  /** @internal used by the stream: the transcript of the next detected utterance. */
  nextTranscript(audioMs: number): string {
    const index = this.utterances++;
    return this.queue.shift() ?? this.options.fallback({ audioMs, index });
  }

  /** @internal */
  speechData(text: string, startTime: number, endTime: number): stt.SpeechData {
    return { text, language: asLanguageCode(this.options.language), startTime, endTime, confidence: 1 };
  }

  protected async _recognize(buffer: AudioBuffer): Promise<stt.SpeechEvent> {
    const frame = mergeFrames(buffer);
    const audioMs = (frame.samplesPerChannel / frame.sampleRate) * 1000;
    const text = this.nextTranscript(audioMs);
    return {
      type: stt.SpeechEventType.FINAL_TRANSCRIPT,
      alternatives: [this.speechData(text, 0, audioMs / 1000)],
    };
  }

  stream(options?: { connOptions?: APIConnectOptions }): stt.SpeechStream {
    return new FakeSpeechStream(this, options?.connOptions);
  }
}

/** RMS level of a PCM16 frame in dBFS (-Infinity for digital silence). */
export function frameDbfs(frame: AudioFrame): number {
  const data = frame.data;
  if (data.length === 0) return Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    const s = data[i]!;
    sum += s * s;
  }
  return 20 * Math.log10(Math.sqrt(sum / data.length) / 32768);
}

class FakeSpeechStream extends stt.SpeechStream {
  label = 'fake.SpeechStream';
  readonly #stt: FakeSTT;

  constructor(fake: FakeSTT, connOptions?: APIConnectOptions) {
    super(fake, undefined, connOptions);
    this.#stt = fake;
  }

  protected async run(): Promise<void> {
    const { speechThresholdDbfs, endSilenceMs, minSpeechMs } = this.#stt.options;
    let streamMs = 0; // audio time since the stream started
    let speechMs = 0; // voiced audio in the open utterance
    let silenceMs = 0; // quiet audio since the last voiced frame
    let startMs = 0;
    let started = false; // START_OF_SPEECH emitted for the open utterance

    const finish = () => {
      if (started) {
        const audioMs = streamMs - silenceMs - startMs;
        const text = this.#stt.nextTranscript(audioMs);
        const data = this.#stt.speechData(
          text,
          this.startTimeOffset + startMs / 1000,
          this.startTimeOffset + (streamMs - silenceMs) / 1000,
        );
        this.queue.put({ type: stt.SpeechEventType.FINAL_TRANSCRIPT, alternatives: [data] });
        this.queue.put({ type: stt.SpeechEventType.END_OF_SPEECH, alternatives: [data] });
        this.queue.put({
          type: stt.SpeechEventType.RECOGNITION_USAGE,
          requestId: `fake-${startMs}`,
          recognitionUsage: { audioDuration: audioMs / 1000 },
        });
      }
      started = false;
      speechMs = 0;
      silenceMs = 0;
    };

    for await (const item of this.input) {
      if (this.abortSignal.aborted) break;
      if (typeof item === 'symbol') {
        finish();
        continue;
      }
      const frameMs = (item.samplesPerChannel / item.sampleRate) * 1000;
      const voiced = frameDbfs(item) > speechThresholdDbfs;
      if (voiced) {
        if (speechMs === 0) startMs = streamMs;
        speechMs += frameMs;
        silenceMs = 0;
        if (!started && speechMs >= minSpeechMs) {
          started = true;
          this.queue.put({ type: stt.SpeechEventType.START_OF_SPEECH });
        }
      } else if (speechMs > 0) {
        silenceMs += frameMs;
        if (silenceMs >= endSilenceMs) {
          finish();
        }
      }
      streamMs += frameMs;
    }
    finish();
  }
}
