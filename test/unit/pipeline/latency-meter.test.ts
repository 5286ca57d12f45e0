import type { metrics } from '@livekit/agents';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  LatencyMeter,
  percentile,
  type TurnLatency,
  turnLatencyHistogram,
} from '../../../src/pipeline/latency-meter.js';

const eou = (speechId: string, lastSpeakingTimeMs: number, eouMs = 500, sttMs = 120): metrics.EOUMetrics => ({
  type: 'eou_metrics',
  timestamp: lastSpeakingTimeMs + eouMs,
  endOfUtteranceDelayMs: eouMs,
  transcriptionDelayMs: sttMs,
  onUserTurnCompletedDelayMs: 0,
  lastSpeakingTimeMs,
  speechId,
});

const llmM = (speechId: string, ttftMs: number): metrics.LLMMetrics => ({
  type: 'llm_metrics',
  label: 'engine',
  requestId: 'r',
  timestamp: 0,
  durationMs: ttftMs + 5,
  ttftMs,
  cancelled: false,
  completionTokens: 0,
  promptTokens: 0,
  promptCachedTokens: 0,
  totalTokens: 0,
  tokensPerSecond: 0,
  speechId,
});

const ttsM = (speechId: string, ttfbMs: number): metrics.TTSMetrics => ({
  type: 'tts_metrics',
  label: 'tts',
  requestId: 'r',
  timestamp: 0,
  ttfbMs,
  durationMs: ttfbMs + 10,
  audioDurationMs: 900,
  cancelled: false,
  charactersCount: 20,
  streamed: false,
  speechId,
});

describe('percentile', () => {
  it('interpolates linearly like numpy', () => {
    const values = [10, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    expect(percentile(values, 50)).toBeCloseTo(5.5);
    expect(percentile(values, 95)).toBeCloseTo(9.55);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile(values, 100)).toBe(10);
    expect(percentile([42], 95)).toBe(42);
    expect(percentile([], 50)).toBeNull();
  });
});

describe('LatencyMeter', () => {
  it('assembles one turn from framework metrics and its own v2v measurement', () => {
    const reported: TurnLatency[] = [];
    const meter = new LatencyMeter({ onTurn: (t) => reported.push(t) });
    meter.onMetrics(eou('s1', 10_000, 520, 130));
    meter.onMetrics(llmM('s1', 35));
    meter.onMetrics(ttsM('s1', 42));
    meter.onMetrics(ttsM('s1', 99)); // a later sentence of the same reply: ignored
    meter.onAgentAudioStarted(10_610);
    meter.onAgentAudioStarted(10_900); // a second segment of the same reply: ignored
    expect(reported).toHaveLength(0); // still speaking
    meter.onAgentListening();
    expect(reported).toEqual([
      {
        turn: 0,
        speech_id: 's1',
        user_stopped_at: 10_000,
        agent_audio_at: 10_610,
        eou_ms: 520,
        stt_ms: 130,
        llm_ttft_ms: 35,
        tts_ttfb_ms: 42,
        v2v_ms: 610,
      },
    ]);
  });

  it('keeps metrics that arrive before the end-of-utterance event', () => {
    const meter = new LatencyMeter();
    meter.onMetrics(llmM('s2', 12));
    meter.onMetrics(ttsM('s2', 7));
    meter.onMetrics(eou('s2', 1000));
    meter.onAgentAudioStarted(1800);
    const summary = meter.finish();
    expect(meter.turns[0]).toMatchObject({ llm_ttft_ms: 12, tts_ttfb_ms: 7, v2v_ms: 800 });
    expect(summary.turns).toBe(1);
  });

  it('ignores metrics of other speeches (greeting, DTMF replies)', () => {
    const meter = new LatencyMeter();
    meter.onMetrics(ttsM('greeting', 5));
    meter.onAgentAudioStarted(500); // greeting audio: no open turn
    meter.onMetrics(eou('s3', 2000));
    meter.onMetrics(ttsM('other', 300));
    meter.onAgentAudioStarted(2700);
    meter.finish();
    expect(meter.turns).toHaveLength(1);
    expect(meter.turns[0]).toMatchObject({ tts_ttfb_ms: null, v2v_ms: 700 });
  });

  it('closes a turn without reply audio when the next turn starts', () => {
    const meter = new LatencyMeter();
    meter.onMetrics(eou('a', 1000));
    meter.onAgentListening(); // no audio yet: stays open
    meter.onMetrics(eou('b', 3000));
    meter.onAgentAudioStarted(3550);
    meter.finish();
    expect(meter.turns.map((t) => [t.speech_id, t.v2v_ms])).toEqual([
      ['a', null],
      ['b', 550],
    ]);
  });

  it('falls back to the VAD end-of-speech event when EOU metrics lack the time', () => {
    const meter = new LatencyMeter();
    meter.onUserStoppedSpeaking(5000);
    meter.onMetrics(eou('c', 0));
    meter.onAgentAudioStarted(5400);
    meter.finish();
    expect(meter.turns[0]).toMatchObject({ user_stopped_at: 5000, v2v_ms: 400 });
  });

  it('summarises p50/p95 per stage at call end and ignores input after finish', () => {
    const meter = new LatencyMeter();
    const v2v = [400, 500, 600, 700, 1500];
    v2v.forEach((ms, i) => {
      const t = 10_000 * (i + 1);
      meter.onMetrics(eou(`s${i}`, t, 500 + i));
      meter.onAgentAudioStarted(t + ms);
      meter.onAgentListening();
    });
    const summary = meter.finish();
    expect(summary.turns).toBe(5);
    expect(summary.p50_v2v_ms).toBe(600);
    expect(summary.p95_v2v_ms).toBe(1340);
    expect(summary.stages.eou_ms).toEqual({ count: 5, p50: 502, p95: 503.8, max: 504 });
    expect(summary.stages.llm_ttft_ms.count).toBe(0);
    meter.onMetrics(eou('late', 99_000));
    expect(meter.finish().turns).toBe(5);
  });

  it('observes a Prometheus histogram per stage, created once per registry', async () => {
    const registry = new Registry();
    const a = new LatencyMeter({ registry, labels: { provider: 'fake', flow: 'f' } });
    const b = new LatencyMeter({ registry });
    expect(turnLatencyHistogram(registry)).toBe(turnLatencyHistogram(registry));
    a.onMetrics(eou('x', 1000, 300, 100));
    a.onAgentAudioStarted(1450);
    a.finish();
    b.finish();
    const text = await registry.metrics();
    expect(text).toContain('voice_agent_turn_latency_seconds_count{stage="v2v",provider="fake",flow="f"} 1');
    expect(text).toContain('voice_agent_turn_latency_seconds_sum{stage="v2v",provider="fake",flow="f"} 0.45');
    expect(text).toContain('voice_agent_turn_latency_seconds_sum{stage="eou",provider="fake",flow="f"} 0.3');
  });
});
