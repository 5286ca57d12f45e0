import { type stt, type tts, type VAD, voice } from '@livekit/agents';
import { type Room, RoomEvent } from '@livekit/rtc-node';
import type { Registry } from 'prom-client';
import type { EventSink } from '../events/index.js';
import { CallRecorder } from './call-recorder.js';
import { ConversationController, type ConversationControllerOptions } from './conversation-adapter.js';
import type { ConversationPort } from './engine-port.js';
import { type ErrorReporter, errorFromSessionEvent, type PipelineErrorRecord } from './errors.js';
import { type CallLatencySummary, LatencyMeter } from './latency-meter.js';
import { setRoomInputFrameMs } from './room-input-frames.js';
import { createPipelineSession, type PipelineSessionOptions, pipelinePathOptions } from './session.js';
import { FlowTurnEnding } from './turn-ending.js';

/**
 * One call through the pipeline, wired the same way in a LiveKit room (worker) and without
 * one (simulator, tests): AgentSession + ConversationAgent (engine as LLM) + LatencyMeter +
 * CallRecorder, with every failure reported once (recorded as an `error` event and passed
 * to `onError`).
 *
 * Room mode: pass `room` (connected, caller present or about to join). The framework's
 * RoomIO subscribes to the caller's audio and publishes the agent's; SIP DTMF
 * (`RoomEvent.DtmfReceived`) goes to the engine.
 * No-room mode: pass `audio: { input, output }` (e.g. PushAudioInput / CaptureAudioOutput).
 *
 * `call.started` / `call.ended` are the host's to emit (it knows the SIP details and why the
 * call ended); `end()` records the latency summary and returns it.
 */
export interface PipelineCallOptions {
  callId: string;
  port: ConversationPort;
  stt: stt.STT;
  tts: tts.TTS;
  vad: VAD;
  sink: EventSink;
  organizationId?: string;
  /** Histograms go here (the worker passes observability/metrics `registry`). */
  registry?: Registry;
  labels?: { provider?: string; flow?: string };
  controller?: Omit<ConversationControllerOptions, 'port' | 'onError' | 'onActions' | 'onExchange'>;
  session?: Partial<Omit<PipelineSessionOptions, 'stt' | 'tts' | 'vad'>>;
  onActions?: ConversationControllerOptions['onActions'];
  onExchange?: ConversationControllerOptions['onExchange'];
  onError?: ErrorReporter;
  room?: Room;
  roomInput?: Partial<voice.RoomInputOptions>;
  roomOutput?: Partial<voice.RoomOutputOptions>;
  audio?: { input: voice.AudioInput; output: voice.AudioOutput };
  /** Called with the session before it starts (subscribe to events you must not miss). */
  beforeStart?: (session: voice.AgentSession) => void;
}

export interface PipelineCall {
  session: voice.AgentSession;
  controller: ConversationController;
  meter: LatencyMeter;
  recorder: CallRecorder;
  /** Flow-aware end of turn of this call (mode, turns ended early). */
  turnEnding: FlowTurnEnding;
  /** Every failure reported so far. */
  errors: PipelineErrorRecord[];
  /** Reports (records) a failure the host detected. */
  report: ErrorReporter;
  /** DTMF from anywhere else than the room (the room's own DTMF is already wired). */
  handleDtmf(digits: string): Promise<void>;
  /** Closes the session, records and returns the latency summary. Idempotent. */
  end(): Promise<CallLatencySummary>;
}

/** The framework's endpointing minDelay: what the fixed end of turn keeps. */
const FRAMEWORK_MIN_DELAY_MS = 500;

export async function startPipelineCall(options: PipelineCallOptions): Promise<PipelineCall> {
  if (!options.room && !options.audio) throw new Error('startPipelineCall needs a room or custom audio I/O');
  const errors: PipelineErrorRecord[] = [];
  let recorder: CallRecorder | undefined;
  const report: ErrorReporter = (error) => {
    errors.push(error);
    recorder?.recordError(error);
    options.onError?.(error);
  };
  const controller = new ConversationController({
    ...options.controller,
    port: options.port,
    onError: report,
    ...(options.onActions ? { onActions: options.onActions } : {}),
    ...(options.onExchange ? { onExchange: options.onExchange } : {}),
  });
  recorder = new CallRecorder({
    callId: options.callId,
    sink: options.sink,
    ...(options.organizationId ? { organizationId: options.organizationId } : {}),
    stateAtUserTurn: (id) => controller.stateAtUserTurn(id),
    currentState: () => options.port.state,
    metricTags: {
      ...(options.labels?.provider ? { provider: options.labels.provider } : {}),
      ...(options.labels?.flow ? { flow: options.labels.flow } : {}),
    },
  });
  const meter = new LatencyMeter({
    ...(options.registry ? { registry: options.registry } : {}),
    ...(options.labels ? { labels: options.labels } : {}),
    onTurn: (turn) => recorder?.recordLatency(turn),
  });

  const path = pipelinePathOptions(options.session?.path ?? 'fast');
  const turnEnding = new FlowTurnEnding(options.port, options.session?.turnEnding ?? path.turnEnding);
  const session = createPipelineSession({
    ...options.session,
    minEndpointingDelayMs:
      options.session?.minEndpointingDelayMs ?? turnEnding.initialMinDelayMs(FRAMEWORK_MIN_DELAY_MS),
    stt: turnEnding.wrapStt(options.stt),
    tts: options.tts,
    vad: turnEnding.wrapVad(options.vad),
  });
  if (options.audio) {
    session.input.audio = options.audio.input;
    session.output.audio = options.audio.output;
  }
  const detach: (() => void)[] = [];
  const onSessionError = (ev: voice.ErrorEvent) => report(errorFromSessionEvent(ev));
  session.on(voice.AgentSessionEventTypes.Error, onSessionError);
  detach.push(() => session.off(voice.AgentSessionEventTypes.Error, onSessionError));
  detach.push(recorder.attach(session, { errors: false }));
  detach.push(turnEnding.attach(session));

  const room = options.room;
  if (room) {
    const onDtmf = (_code: number, digit: string) => {
      void controller.handleDtmf(digit);
    };
    room.on(RoomEvent.DtmfReceived, onDtmf);
    detach.push(() => room.off(RoomEvent.DtmfReceived, onDtmf));
  }

  if (room) await setRoomInputFrameMs(options.session?.inputFrameMs ?? path.inputFrameMs);
  options.beforeStart?.(session);
  await session.start({
    agent: controller.createAgent({ trimTtsSilence: options.session?.trimTtsSilence ?? path.trimTtsSilence }),
    ...(room ? { room } : {}),
    ...(options.roomInput ? { inputOptions: options.roomInput } : {}),
    ...(options.roomOutput ? { outputOptions: options.roomOutput } : {}),
  });
  // After start: the output chain (RoomIO, recorder wrappers) is final now.
  detach.push(meter.attach(session));

  let ended: Promise<CallLatencySummary> | undefined;
  return {
    session,
    controller,
    meter,
    recorder,
    turnEnding,
    errors,
    report,
    handleDtmf: (digits) => controller.handleDtmf(digits),
    end: () => {
      ended ??= (async () => {
        controller.close();
        await session.close().catch((err: unknown) =>
          report({
            error_type: 'session_close_failed',
            message: err instanceof Error ? err.message : String(err),
            severity: 'low',
            recoverable: true,
            at: Date.now(),
          }),
        );
        const summary = meter.finish();
        recorder?.recordSummary(summary);
        for (const d of detach.splice(0)) d();
        return summary;
      })();
      return ended;
    },
  };
}
