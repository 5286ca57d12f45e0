import { type metrics, voice } from '@livekit/agents';
import { Histogram, type Registry } from 'prom-client';

/**
 * Per-turn latency of the voice pipeline.
 *
 * For each user turn (one end of utterance that produced a reply):
 * - `eou_ms`      end-of-utterance delay: VAD end of speech → turn committed (framework EOUMetrics)
 * - `stt_ms`      transcription delay: VAD end of speech → final transcript (EOUMetrics); for a
 *                 streaming STT this is the STT's own latency after the caller stops
 * - `llm_ttft_ms` time to first token of the reply (LLMMetrics of the session LLM, i.e. the
 *                 conversation engine, including any LLM it calls)
 * - `tts_ttfb_ms` TTS time to first byte of the reply's first sentence (TTSMetrics)
 * - `v2v_ms`      voice to voice: caller stops speaking (VAD's estimate, EOUMetrics
 *                 lastSpeakingTime) → first agent audio frame handed to the audio output
 *                 (playbackStarted of the output: for a room, the moment it enters the WebRTC
 *                 audio source). Measured here, not by the framework.
 *
 * Metrics are matched to turns by speech id (the framework tags LLM/TTS metrics with the
 * speech they belong to, and EOU metrics with the speech they started); the first agent
 * audio after a turn's end of utterance is that turn's reply. A turn is finalised when its
 * reply has started and the agent is listening again, when the next turn starts, or at
 * finish(); only then is it reported (onTurn) and observed in the histograms.
 */

export const LATENCY_STAGES = ['eou_ms', 'stt_ms', 'llm_ttft_ms', 'tts_ttfb_ms', 'v2v_ms'] as const;
export type LatencyStage = (typeof LATENCY_STAGES)[number];

export interface TurnLatency {
  /** 0-based index among metered turns of the call. */
  turn: number;
  speech_id: string | null;
  /** Epoch ms the caller stopped speaking (per VAD), when known. */
  user_stopped_at: number | null;
  /** Epoch ms the first reply frame reached the audio output, when it did. */
  agent_audio_at: number | null;
  eou_ms: number | null;
  stt_ms: number | null;
  llm_ttft_ms: number | null;
  tts_ttfb_ms: number | null;
  v2v_ms: number | null;
}

export interface StageSummary {
  count: number;
  p50: number | null;
  p95: number | null;
  max: number | null;
}

export interface CallLatencySummary {
  turns: number;
  p50_v2v_ms: number | null;
  p95_v2v_ms: number | null;
  stages: Record<LatencyStage, StageSummary>;
}

export interface LatencyMeterOptions {
  /** Registry for the histograms; omit to skip Prometheus (e.g. benchmarks). */
  registry?: Registry;
  /** Constant label values on every observation (e.g. provider). */
  labels?: { provider?: string; flow?: string };
  onTurn?: (turn: TurnLatency) => void;
}

/** Linear-interpolated percentile (numpy's default) of unsorted values; null when empty. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (rank - lo);
}

export function summarize(values: readonly number[]): StageSummary {
  return {
    count: values.length,
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    max: values.length ? round(Math.max(...values)) : null,
  };
}

function round(v: number | null): number | null {
  return v === null ? null : Math.round(v * 10) / 10;
}

const histogramCache = new WeakMap<Registry, Histogram<'stage' | 'provider' | 'flow'>>();

/** The `voice_agent_turn_latency_seconds{stage,provider,flow}` histogram of a registry (created once). */
export function turnLatencyHistogram(registry: Registry): Histogram<'stage' | 'provider' | 'flow'> {
  let h = histogramCache.get(registry);
  if (!h) {
    const existing = registry.getSingleMetric('voice_agent_turn_latency_seconds');
    h =
      (existing as Histogram<'stage' | 'provider' | 'flow'> | undefined) ??
      new Histogram({
        name: 'voice_agent_turn_latency_seconds',
        help: 'Per user turn latency by stage: eou, stt, llm_ttft, tts_ttfb, v2v (voice to voice)',
        labelNames: ['stage', 'provider', 'flow'] as const,
        buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8],
        registers: [registry],
      });
    histogramCache.set(registry, h);
  }
  return h;
}

interface OpenTurn extends TurnLatency {
  audioStarted: boolean;
}

export class LatencyMeter {
  private readonly opts: LatencyMeterOptions;
  private readonly histogram?: Histogram<'stage' | 'provider' | 'flow'>;
  private readonly done: TurnLatency[] = [];
  private open?: OpenTurn;
  /** Per speech id: LLM/TTS metrics that arrived before the turn opened (rare) or for it. */
  private readonly pendingLlm = new Map<string, number>();
  private readonly pendingTts = new Map<string, number>();

  /**
   * The first LLM / TTS timing of a reply: onto the open turn when it is that reply's, else kept
   * until its turn opens (metrics may arrive before the turn's end-of-utterance).
   */
  private firstTiming(
    stage: 'llm_ttft_ms' | 'tts_ttfb_ms',
    pending: Map<string, number>,
    speechId: string | undefined,
    ms: number,
  ): void {
    if (ms < 0 || !speechId) return;
    if (this.open && this.open.speech_id === speechId) this.open[stage] ??= ms;
    else if (!pending.has(speechId)) pending.set(speechId, ms);
  }
  private lastUserStoppedAt: number | null = null;
  private count = 0;
  private finished = false;

  constructor(options: LatencyMeterOptions = {}) {
    this.opts = options;
    if (options.registry) this.histogram = turnLatencyHistogram(options.registry);
  }

  /** Completed turns so far. */
  get turns(): readonly TurnLatency[] {
    return this.done;
  }

  // ---- inputs (timestamps are epoch ms) ----------------------------------------------------

  /** Feed every `metrics_collected` metric; unrelated types are ignored. */
  onMetrics(m: metrics.AgentMetrics): void {
    if (this.finished) return;
    switch (m.type) {
      case 'eou_metrics': {
        this.finalizeOpen();
        const stoppedAt = m.lastSpeakingTimeMs > 0 ? m.lastSpeakingTimeMs : this.lastUserStoppedAt;
        const id = m.speechId ?? null;
        this.open = {
          turn: this.count++,
          speech_id: id,
          user_stopped_at: stoppedAt,
          agent_audio_at: null,
          eou_ms: m.endOfUtteranceDelayMs,
          stt_ms: m.transcriptionDelayMs,
          llm_ttft_ms: id !== null ? (this.pendingLlm.get(id) ?? null) : null,
          tts_ttfb_ms: id !== null ? (this.pendingTts.get(id) ?? null) : null,
          v2v_ms: null,
          audioStarted: false,
        };
        if (id !== null) {
          this.pendingLlm.delete(id);
          this.pendingTts.delete(id);
        }
        return;
      }
      case 'llm_metrics':
        this.firstTiming('llm_ttft_ms', this.pendingLlm, m.speechId, m.ttftMs);
        return;
      case 'tts_metrics':
        this.firstTiming('tts_ttfb_ms', this.pendingTts, m.speechId, m.ttfbMs);
        return;
      default:
        return;
    }
  }

  /** VAD says the caller stopped (fallback anchor when EOU metrics lack the time). */
  onUserStoppedSpeaking(at: number): void {
    this.lastUserStoppedAt = at;
  }

  /** First frame of an agent audio segment reached the output. */
  onAgentAudioStarted(at: number): void {
    const turn = this.open;
    if (!turn || turn.audioStarted || this.finished) return;
    turn.audioStarted = true;
    turn.agent_audio_at = at;
    if (turn.user_stopped_at !== null) turn.v2v_ms = Math.max(0, at - turn.user_stopped_at);
  }

  /** The agent went back to listening: a turn whose reply has started is complete. */
  onAgentListening(): void {
    if (this.open?.audioStarted) this.finalizeOpen();
  }

  /**
   * Subscribes to a started session: metrics, user/agent state and the playbackStarted events
   * of `session.output.audio` (call after start(), when the output chain is final). Pass
   * `trackOutput: false` when the output reports first frames itself via onAgentAudioStarted.
   * Returns the unsubscribe function.
   */
  attach(session: voice.AgentSession, options: { trackOutput?: boolean } = {}): () => void {
    const onMetrics = (ev: voice.MetricsCollectedEvent) => this.onMetrics(ev.metrics);
    const onUser = (ev: voice.UserStateChangedEvent) => {
      if (ev.oldState === 'speaking' && ev.newState !== 'speaking') this.onUserStoppedSpeaking(ev.createdAt);
    };
    const onAgent = (ev: voice.AgentStateChangedEvent) => {
      if (ev.newState === 'listening') this.onAgentListening();
    };
    const onPlayback = (ev: voice.PlaybackStartedEvent) => this.onAgentAudioStarted(ev.createdAt);
    session.on(voice.AgentSessionEventTypes.MetricsCollected, onMetrics);
    session.on(voice.AgentSessionEventTypes.UserStateChanged, onUser);
    session.on(voice.AgentSessionEventTypes.AgentStateChanged, onAgent);
    const output = options.trackOutput === false ? null : session.output.audio;
    output?.on(voice.AudioOutput.EVENT_PLAYBACK_STARTED, onPlayback);
    return () => {
      session.off(voice.AgentSessionEventTypes.MetricsCollected, onMetrics);
      session.off(voice.AgentSessionEventTypes.UserStateChanged, onUser);
      session.off(voice.AgentSessionEventTypes.AgentStateChanged, onAgent);
      output?.off(voice.AudioOutput.EVENT_PLAYBACK_STARTED, onPlayback);
    };
  }

  // ---- outputs -----------------------------------------------------------------------------

  /** Finalises the open turn and returns the call summary (idempotent). */
  finish(): CallLatencySummary {
    if (!this.finished) {
      this.finalizeOpen();
      this.finished = true;
    }
    return this.summary();
  }

  summary(): CallLatencySummary {
    const stages = {} as Record<LatencyStage, StageSummary>;
    for (const stage of LATENCY_STAGES) {
      stages[stage] = summarize(this.done.map((t) => t[stage]).filter((v): v is number => v !== null));
    }
    return {
      turns: this.done.length,
      p50_v2v_ms: stages.v2v_ms.p50,
      p95_v2v_ms: stages.v2v_ms.p95,
      stages,
    };
  }

  private finalizeOpen(): void {
    const turn = this.open;
    if (!turn) return;
    this.open = undefined;
    const { audioStarted: _, ...record } = turn;
    this.done.push(record);
    if (this.histogram) {
      const provider = this.opts.labels?.provider ?? '';
      const flow = this.opts.labels?.flow ?? '';
      for (const stage of LATENCY_STAGES) {
        const v = record[stage];
        if (v !== null)
          this.histogram.observe({ stage: stage.replace(/_ms$/, ''), provider, flow }, v / 1000);
      }
    }
    this.opts.onTurn?.(record);
  }
}
