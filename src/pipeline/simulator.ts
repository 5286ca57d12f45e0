import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { type stt, type tts, type VAD, voice } from '@livekit/agents';
import { AudioResampler } from '@livekit/rtc-node';
import type { Registry } from 'prom-client';
import { encodeClipWav, framesToPcm, type Pcm, pcmDurationMs, pcmToFrames, silence } from '../audio/clip.js';
import { rmsDbfs } from '../audio/level.js';
import type { EventSink } from '../events/index.js';
import { makeEvent, NullEventSink } from '../events/index.js';
import { FakeSTT } from '../providers/fake/fake-stt.js';
import { FakeTTS } from '../providers/fake/fake-tts.js';
import { sleep } from '../util/async.js';
import { CaptureAudioOutput, PushAudioInput } from './audio-io.js';
import { startPipelineCall } from './call.js';
import type { ConversationControllerOptions, Exchange } from './conversation-adapter.js';
import type { Action, ConversationPort, TransitionRecord } from './engine-port.js';
import { errorMessage, type PipelineErrorRecord } from './errors.js';
import type { CallLatencySummary } from './latency-meter.js';
import { ensureAgentsLogger } from './logging.js';
import type { PipelineSessionOptions } from './session.js';
import { loadSileroVad } from './vad.js';

/**
 * The simulator core: one whole call through a real AgentSession with no room. A scripted
 * caller talks into a custom AudioInput (20 ms PCM frames at real-time pace, or as fast as
 * possible with `fast`); the agent's audio is captured by a custom AudioOutput. Real VAD,
 * real turn taking, real interruptions, our conversation adapter, latency meter and call
 * recorder — only the providers may be fakes.
 *
 * Turn taking of the caller: before each step it waits until the agent has finished its
 * reply to the previous one (greeting first). A speaking step with `barge_in_after_ms`
 * instead starts that long after the agent *started* its reply, which interrupts it.
 * `silence_ms` keeps the line quiet (real time even in fast mode, because the engine's
 * no-input timeout is wall-clock). `dtmf` delivers digits as the SIP bridge would.
 * The call ends after the last step's reply, or when the engine hangs up / transfers.
 *
 * Latency in fast mode: VAD and endpointing still run, but the caller's audio is compressed
 * in time, so eou/v2v numbers are not wall-clock meaningful there. Use real time for latency.
 */

export type CallerTurn =
  | { say: string; barge_in_after_ms?: number }
  | { audio: Pcm; transcript?: string; barge_in_after_ms?: number }
  | { silence_ms: number }
  | { dtmf: string };

export interface CallerScript {
  name?: string;
  turns: CallerTurn[];
  /** Default barge-in for every speaking turn after the first reply. */
  barge_in_after_ms?: number;
}

/** Turns text into caller audio (flite in production; any PCM source in tests). */
export type Synthesizer = (text: string) => Promise<Pcm>;

export interface SimulateCallOptions {
  port: ConversationPort;
  script: CallerScript;
  flow?: string;
  /** Needed when the script has `say` turns. */
  synthesize?: Synthesizer;
  /**
   * Providers of the agent. Defaults: FakeSTT fed with the script's `say` texts (and
   * `transcript` of `audio` turns), FakeTTS, silero VAD. A FakeSTT passed here is fed too.
   */
  providers?: { stt?: stt.STT; tts?: tts.TTS; vad?: VAD };
  /** Push caller audio as fast as possible instead of in real time. */
  fast?: boolean;
  /** Agent audio "plays" in real time (needed for barge-in). Default: !fast. */
  realtimePlayout?: boolean;
  /** Caller audio sample rate fed to the session. Default 16000. */
  sampleRate?: number;
  callId?: string;
  /** Where call events go (turn, metric, error, call.started/ended). Default: discarded. */
  sink?: EventSink;
  /** Prometheus registry for the latency histograms. Default: none. */
  registry?: Registry;
  /** Write the agent's audio (what the caller heard) to this WAV file. */
  agentWavPath?: string;
  /** Write both sides on a common timeline (left: caller, right: agent) to this WAV file. */
  conversationWavPath?: string;
  controller?: Pick<ConversationControllerOptions, 'engineTimeoutMs' | 'apology' | 'noInputTimeoutMs'>;
  session?: Partial<Omit<PipelineSessionOptions, 'stt' | 'tts' | 'vad'>>;
  /** Max wait for the agent's reply to a caller turn. Default 20000 ms. */
  replyTimeoutMs?: number;
  /** The agent counts as done after this much quiet. Default 400 ms (150 in fast mode). */
  settleMs?: number;
  /** Hard cap on the whole call. Default 300000 ms. */
  maxCallMs?: number;
  /** @livekit/agents log level when its logger is not set up yet. Default 'warn'. */
  logLevel?: string;
}

export interface SimulationTurn {
  role: 'user' | 'agent';
  text: string;
  state?: string;
  interrupted?: boolean;
}

export interface SimulationResult {
  call_id: string;
  flow: string | null;
  final_state: string;
  slots: Record<string, unknown>;
  records: { type: string; data: Record<string, unknown> }[];
  turns: SimulationTurn[];
  transitions: TransitionRecord[];
  latency: {
    turns: {
      eou_ms: number | null;
      stt_ms: number | null;
      llm_ttft_ms: number | null;
      tts_ttfb_ms: number | null;
      v2v_ms: number | null;
    }[];
    p50_v2v_ms: number | null;
    p95_v2v_ms: number | null;
    summary: CallLatencySummary;
  };
  errors: PipelineErrorRecord[];
  ended_by: 'hangup' | 'transfer' | 'script_end' | 'timeout' | 'error';
  actions: Action[];
  exchanges: Exchange[];
  agent_audio: {
    duration_ms: number;
    rms_dbfs: number;
    sample_rate: number;
    segments: number;
    interrupted_segments: number;
  };
  duration_ms: number;
}

const FRAME_MS = 20;
const FAST_TRAILING_SILENCE_MS = 1200;

/** Feeds caller audio to the session: a continuous 20 ms clock in real time, bursts in fast mode. */
class CallerAudio {
  private readonly frameSamples: number;
  private pending: Int16Array[] = [];
  private pendingDone?: () => void;
  private stopped = false;
  private loopDone?: Promise<void>;
  /** Caller timeline for the conversation WAV: [epoch ms, samples]. */
  readonly timeline: { at: number; samples: Int16Array }[] = [];

  constructor(
    private readonly input: PushAudioInput,
    readonly sampleRate: number,
    private readonly fast: boolean,
    private readonly keepTimeline: boolean,
  ) {
    this.frameSamples = Math.round((sampleRate * FRAME_MS) / 1000);
  }

  start(): void {
    if (!this.fast) this.loopDone = this.loop();
  }

  /** Plays `pcm`; resolves when its last frame has been pushed. */
  async play(pcm: Pcm): Promise<void> {
    const samples = this.resample(pcm);
    if (this.fast) {
      const frames = pcmToFrames({ sampleRate: this.sampleRate, samples }, FRAME_MS);
      frames.push(...pcmToFrames(silence(this.sampleRate, FAST_TRAILING_SILENCE_MS), FRAME_MS));
      for (let i = 0; i < frames.length; i++) {
        this.push(frames[i]!.data);
        if (i % 25 === 24) await new Promise((resolve) => setImmediate(resolve));
      }
      return;
    }
    await new Promise<void>((resolve) => {
      this.pending.push(samples);
      const previous = this.pendingDone;
      this.pendingDone = () => {
        previous?.();
        resolve();
      };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.pendingDone?.();
    await this.loopDone;
  }

  private push(data: Int16Array): void {
    if (this.keepTimeline) this.timeline.push({ at: Date.now(), samples: data });
    this.input.push(pcmToFrames({ sampleRate: this.sampleRate, samples: data }, FRAME_MS)[0]!);
  }

  private nextFrame(): Int16Array {
    const frame = new Int16Array(this.frameSamples);
    let filled = 0;
    while (filled < this.frameSamples && this.pending.length > 0) {
      const head = this.pending[0]!;
      const n = Math.min(head.length, this.frameSamples - filled);
      frame.set(head.subarray(0, n), filled);
      filled += n;
      if (n === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(n);
    }
    if (filled > 0 && this.pending.length === 0) {
      const done = this.pendingDone;
      this.pendingDone = undefined;
      queueMicrotask(() => done?.());
    }
    return frame;
  }

  private async loop(): Promise<void> {
    const started = performance.now();
    let n = 0;
    while (!this.stopped) {
      this.push(this.nextFrame());
      n++;
      await sleep(started + n * FRAME_MS - performance.now());
    }
  }

  private resample(pcm: Pcm): Int16Array {
    if (pcm.sampleRate === this.sampleRate) return pcm.samples;
    const resampler = new AudioResampler(pcm.sampleRate, this.sampleRate, 1);
    const out = [...pcmToFrames(pcm, FRAME_MS).flatMap((f) => resampler.push(f)), ...resampler.flush()];
    resampler.close();
    return framesToPcm(out, this.sampleRate).samples;
  }
}

/** Agent state history with waiting helpers. */
class AgentWatch {
  state: voice.AgentState = 'initializing';
  userState: voice.UserState = 'listening';
  readonly speakingStarts: number[] = [];
  private waiters = new Set<() => void>();
  ended = false;

  constructor(session: voice.AgentSession) {
    session.on(voice.AgentSessionEventTypes.AgentStateChanged, (ev) => {
      this.state = ev.newState;
      if (ev.newState === 'speaking') this.speakingStarts.push(ev.createdAt);
      this.notify();
    });
    session.on(voice.AgentSessionEventTypes.UserStateChanged, (ev) => {
      this.userState = ev.newState;
      this.notify();
    });
  }

  notify(): void {
    for (const w of [...this.waiters]) w();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  spokeSince(t: number): boolean {
    return this.speakingStarts.some((s) => s >= t);
  }

  get quiet(): boolean {
    return this.state === 'listening' || this.state === 'idle';
  }

  /** Resolves true when `pred` holds (re-checked on every state change), false on timeout. */
  waitFor(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    if (this.ended || pred()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (this.ended || pred()) finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(ok);
      };
      this.waiters.add(check);
    });
  }
}

function mixConversation(caller: CallerAudio, agent: CaptureAudioOutput, t0: number): Pcm {
  const rate = caller.sampleRate;
  const at = (epochMs: number) => Math.max(0, Math.round(((epochMs - t0) / 1000) * rate));
  let length = 0;
  for (const c of caller.timeline) length = Math.max(length, at(c.at) + c.samples.length);
  const agentParts: { start: number; samples: Int16Array }[] = [];
  for (const seg of agent.segments) {
    const pcm = framesToPcm(seg.frames, rate);
    const played = pcm.samples.subarray(0, Math.round((seg.playedMs / 1000) * rate));
    agentParts.push({ start: at(seg.startedAt), samples: played });
    length = Math.max(length, at(seg.startedAt) + played.length);
  }
  const stereo = new Int16Array(length * 2);
  for (const c of caller.timeline) {
    const start = at(c.at);
    for (let i = 0; i < c.samples.length; i++) stereo[(start + i) * 2] = c.samples[i]!;
  }
  for (const part of agentParts) {
    for (let i = 0; i < part.samples.length; i++) stereo[(part.start + i) * 2 + 1] = part.samples[i]!;
  }
  return { sampleRate: rate, samples: stereo };
}

/** Runs one scripted call; see the module comment. */
export async function simulateCall(options: SimulateCallOptions): Promise<SimulationResult> {
  ensureAgentsLogger(options.logLevel ?? 'warn');
  const fast = options.fast ?? false;
  const sampleRate = options.sampleRate ?? 16000;
  const callId = options.callId ?? randomUUID();
  const sink = options.sink ?? new NullEventSink();
  const replyTimeoutMs = options.replyTimeoutMs ?? 20_000;
  const settleMs = options.settleMs ?? (fast ? 150 : 400);
  const flow = options.flow ?? options.port.snapshot?.().flow ?? null;
  const port = options.port;
  const script = options.script;
  const actions: Action[] = [];
  let endedBy: SimulationResult['ended_by'] = 'script_end';

  // Synthesize every caller utterance up front so synthesis never delays the caller.
  const utterances = new Map<number, Pcm>();
  for (const [i, turn] of script.turns.entries()) {
    if ('say' in turn) {
      if (!options.synthesize) throw new Error('the script has `say` turns: pass options.synthesize');
      utterances.set(i, await options.synthesize(turn.say));
    } else if ('audio' in turn) {
      utterances.set(i, turn.audio);
    }
  }

  const t0 = Date.now();
  sink.emit(
    makeEvent('call.started', callId, {
      room_name: '',
      session_id: callId,
      flow: flow ?? 'unknown',
      worker_id: 'simulator',
      direction: 'simulated',
      ...(script.name ? { metadata: { script: script.name } } : {}),
    }),
  );
  const sttProvider = options.providers?.stt ?? new FakeSTT();
  const ttsProvider = options.providers?.tts ?? new FakeTTS({ sampleRate });
  const vad = options.providers?.vad ?? (await loadSileroVad());
  const fakeStt = sttProvider instanceof FakeSTT ? sttProvider : undefined;

  const input = new PushAudioInput();
  const output = new CaptureAudioOutput({ sampleRate, realtime: options.realtimePlayout ?? !fast });
  const watching: { watch?: AgentWatch } = {};
  const call = await startPipelineCall({
    callId,
    port,
    stt: sttProvider,
    tts: ttsProvider,
    vad,
    sink,
    ...(options.registry ? { registry: options.registry } : {}),
    labels: { provider: 'simulated', ...(flow ? { flow } : {}) },
    ...(options.controller ? { controller: options.controller } : {}),
    session: {
      aecWarmupMs: null,
      ...options.session,
      interruptions: { resumeFalseInterruption: false, ...options.session?.interruptions },
    },
    audio: { input, output },
    onActions: (list) => {
      actions.push(...list);
      const end = list.find((a) => a.type === 'hangup' || a.type === 'transfer');
      if (end) {
        endedBy = end.type as 'hangup' | 'transfer';
        watching.watch?.end();
      }
    },
    beforeStart: (session) => {
      watching.watch = new AgentWatch(session);
    },
  });
  const { controller, recorder, errors } = call;
  const reportError = call.report;
  const caller = new CallerAudio(input, sampleRate, fast, options.conversationWavPath !== undefined);

  const deadline = t0 + (options.maxCallMs ?? 300_000);
  const remaining = () => Math.max(0, deadline - Date.now());
  const w = watching.watch;
  if (!w) throw new Error('the session did not start');
  /** Waits until the agent's reply to the caller turn that ended at `since` is over. */
  const waitReplyDone = async (since: number, expectReply: boolean) => {
    const exchangesBefore = controller.exchanges.filter((e) => e.at < since).length;
    for (;;) {
      const ok = await w.waitFor(
        () => {
          if (!w.quiet) return false;
          if (!expectReply) return true;
          if (w.spokeSince(since)) return true;
          // the engine answered with nothing to say
          const fresh = controller.exchanges.slice(exchangesBefore);
          return fresh.length > 0 && fresh.every((e) => !e.reply.text.trim());
        },
        Math.min(replyTimeoutMs, remaining()),
      );
      if (!ok) {
        if (remaining() === 0) endedBy = 'timeout';
        reportError({
          error_type: 'no_reply',
          message: `the agent did not finish a reply within ${replyTimeoutMs} ms (state ${w.state})`,
          severity: 'medium',
          recoverable: true,
          context: { since: new Date(since).toISOString() },
          at: Date.now(),
        });
        return;
      }
      if (w.ended) return;
      await sleep(settleMs);
      if (w.ended || w.quiet) return;
    }
  };
  const waitReplyStarted = (since: number) =>
    w.waitFor(() => w.spokeSince(since), Math.min(replyTimeoutMs, remaining()));

  try {
    caller.start();

    let pending = { since: t0, expectReply: true };
    for (const [i, turn] of script.turns.entries()) {
      if (w.ended || remaining() === 0) break;
      const pcm = utterances.get(i);
      const bargeIn =
        pcm && ('say' in turn || 'audio' in turn)
          ? (turn.barge_in_after_ms ?? script.barge_in_after_ms)
          : undefined;
      if (bargeIn !== undefined && pending.expectReply) {
        await waitReplyStarted(pending.since);
        await sleep(bargeIn);
      } else {
        await waitReplyDone(pending.since, pending.expectReply);
      }
      if (w.ended) break;

      if (pcm) {
        const transcript = 'say' in turn ? turn.say : 'audio' in turn ? turn.transcript : undefined;
        if (fakeStt && transcript !== undefined) fakeStt.pushTranscript(transcript);
        await caller.play(pcm);
        pending = { since: Date.now(), expectReply: true };
      } else if ('silence_ms' in turn) {
        const since = Date.now();
        await w.waitFor(() => false, Math.min(turn.silence_ms, remaining()));
        pending = { since, expectReply: false };
      } else if ('dtmf' in turn) {
        const since = Date.now();
        recorder.recordTurn('user', `[DTMF ${turn.dtmf}]`, port.state, { dtmf: turn.dtmf });
        await controller.handleDtmf(turn.dtmf);
        pending = { since, expectReply: true };
      }
    }
    if (!w.ended) await waitReplyDone(pending.since, pending.expectReply);
  } catch (err) {
    endedBy = 'error';
    reportError({
      error_type: 'simulator_error',
      message: errorMessage(err),
      severity: 'high',
      recoverable: false,
      ...(err instanceof Error && err.stack ? { context: { stack: err.stack } } : {}),
      at: Date.now(),
    });
  } finally {
    await caller.stop();
  }
  const summary = await call.end();
  await input.close().catch(() => undefined);
  const snapshot = port.snapshot?.() ?? {};
  const played = framesToPcm(output.playedFrames(), sampleRate);
  if (options.agentWavPath) await writeFile(options.agentWavPath, encodeClipWav(played));
  if (options.conversationWavPath) {
    await writeFile(options.conversationWavPath, encodeClipWav(mixConversation(caller, output, t0), 2));
  }
  const durationMs = Date.now() - t0;
  sink.emit(
    makeEvent('call.ended', callId, {
      status: endedBy === 'error' ? 'FAILED' : 'COMPLETED',
      final_state: port.state,
      reason: endedBy,
      ended_at: new Date().toISOString(),
      duration_seconds: Math.round(durationMs / 1000),
    }),
  );
  await sink.flush();

  return {
    call_id: callId,
    flow,
    final_state: port.state,
    slots: snapshot.slots ?? {},
    records: snapshot.records ?? [],
    turns: recorder.turns.map((t) => ({ ...t })),
    transitions: snapshot.transitions ?? [],
    latency: {
      turns: call.meter.turns.map(({ eou_ms, stt_ms, llm_ttft_ms, tts_ttfb_ms, v2v_ms }) => ({
        eou_ms,
        stt_ms,
        llm_ttft_ms,
        tts_ttfb_ms,
        v2v_ms,
      })),
      p50_v2v_ms: summary.p50_v2v_ms,
      p95_v2v_ms: summary.p95_v2v_ms,
      summary,
    },
    errors,
    ended_by: endedBy,
    actions,
    exchanges: controller.exchanges,
    agent_audio: {
      duration_ms: Math.round(pcmDurationMs(played)),
      rms_dbfs: Math.round(rmsDbfs(played.samples) * 10) / 10,
      sample_rate: sampleRate,
      segments: output.segments.length,
      interrupted_segments: output.segments.filter((s) => s.interrupted).length,
    },
    duration_ms: durationMs,
  };
}
