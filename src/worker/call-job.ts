import { randomUUID } from 'node:crypto';
import { AutoSubscribe, type JobContext, type VAD } from '@livekit/agents';
import { type RemoteParticipant, RoomEvent } from '@livekit/rtc-node';
import { RoomServiceClient } from 'livekit-server-sdk';
import { type Config, loadConfig } from '../config/config.js';
import { ConversationEngine } from '../conversation/engine.js';
import { domainLanguage } from '../conversation/language.js';
import { toConversationPort } from '../conversation/port.js';
import { eventsObserver } from '../conversation/recording.js';
import { unavailableFlowPackage } from '../conversation/unavailable-flow.js';
import { startCallHeartbeat } from '../events/heartbeat.js';
import { CountingSink, DEFAULT_ORGANIZATION_ID, makeEvent } from '../events/index.js';
import { EventProducer } from '../events/producer.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { callEnded, callStarted, recordError, registry } from '../observability/metrics.js';
import { ComplianceBlockedError } from '../outbound/compliance/gate.js';
import { OutboundPolicy } from '../outbound/policy.js';
import { PiiKeyRing } from '../persistence/pii.js';
import { type PipelineCall, startPipelineCall } from '../pipeline/call.js';
import type { PipelineErrorRecord } from '../pipeline/errors.js';
import { voiceForLanguage } from '../providers/local/synth.js';
import { llmAssistFromConfig } from '../providers/openai/llm-assist.js';
import { selectProviders } from '../providers/select.js';
import { httpUrl, runActions } from './call-actions.js';
import { CallLifecycle, type CallOutcome } from './call-lifecycle.js';
import { admitWorkerCall, CallLimitError } from './call-limit.js';
import { dialOut, NotAnsweredError } from './dial-out.js';
import { trustedMetadata } from './dispatch-signature.js';
import { FlowResourcePool } from './flow-resources.js';
import { type JobMetadata, parseJobMetadata } from './job-metadata.js';
import { loggedOperation } from './provider-log.js';
import { callFlow, lookupRoute } from './route-lookup.js';
import { type CallerIdentity, callerIdentity, loggableCaller } from './sip-identity.js';

/** The caller's audio as the session receives it (silero's rate; see roomInput below). */
export const CALLER_AUDIO_SAMPLE_RATE = 16_000;
/** How long a job waits for its caller to join before it gives up. */
const CALLER_WAIT_MS = 30_000;
/** The warning before the maximum call duration. */
const WARNING_BEFORE_END_MS = 30_000;
export const MAX_DURATION_WARNING =
  'We are almost out of time for this call. I will need to hang up in about thirty seconds.';
export const MAX_DURATION_GOODBYE = "I'm sorry, we have reached the time limit for this call. Goodbye.";
export const SHUTDOWN_GOODBYE =
  "I'm sorry, I have to end this call now because the service is restarting. Please call back. Goodbye.";

/**
 * One call, from dispatch to the last event: join the room, dial out if asked, wait for the
 * caller, record who it is, run the flow through the pipeline, carry out the flow's actions,
 * and finalize exactly once however it ends (flow, caller hang-up, maximum duration, worker
 * shutdown, failure). Runs in the job's own process (the framework's process executor).
 */
export async function runCallJob(ctx: JobContext, vad: VAD, shared: SharedCallResources = {}): Promise<void> {
  const cfg = loadConfig();
  const callId = randomUUID();
  const roomName = ctx.job.room?.name ?? '';
  const log = createLogger({ name: 'call', level: cfg.LOG_LEVEL }).child({ call_id: callId, room: roomName });
  const producer = shared.producer ?? EventProducer.fromConfig(cfg, log);
  const sink = new CountingSink(producer);
  callStarted();
  const lifecycle = new CallLifecycle(sink, callId);
  const flowResources = shared.flowResources ?? flowResourcePool(cfg, log);
  // Resources of the process (shared executor) outlive the call: flush, do not close.
  const cleanup: (() => Promise<unknown> | unknown)[] = [
    () => (shared.flowResources ? undefined : flowResources.close()),
  ];
  // Last of all, after the hang-up's provider log: every event is then in Redis or the journal.
  const handOverEvents = () => (shared.producer ? producer.flush() : producer.close());
  let pipeline: PipelineCall | undefined;
  let caller: CallerIdentity | undefined;
  let finishing: Promise<void> | undefined;

  const reportError = (
    error_type: string,
    message: string,
    severity: PipelineErrorRecord['severity'] = 'high',
  ) => {
    const record: PipelineErrorRecord = { error_type, message, severity, recoverable: false, at: Date.now() };
    if (pipeline) pipeline.report(record);
    else {
      // Before the pipeline exists (setup failures) the error is still the call's record.
      log.error({ error_type, err: message }, 'call error');
      try {
        sink.emit(makeEvent('error', callId, { error_id: randomUUID(), error_type, message, severity }));
      } catch {
        // recording must never break the call
      }
    }
  };

  /** Ends the call once: outcome recorded, pipeline closed, events flushed, room closed. */
  const finish = (outcome: Omit<CallOutcome, 'finalState'>, opts: { closeRoom?: boolean } = {}) => {
    finishing ??= (async () => {
      const finalState = pipeline?.controller ? portState() : undefined;
      if (lifecycle.end({ ...outcome, ...(finalState ? { finalState } : {}) }))
        callEnded(outcomeLabel(outcome));
      log.info({ status: outcome.status, reason: outcome.reason, final_state: finalState }, 'call ended');
      await pipeline?.end().catch((err) => log.warn({ err: String(err) }, 'pipeline end failed'));
      for (const fn of cleanup.splice(0).reverse()) await Promise.resolve(fn()).catch(() => undefined);
      if (opts.closeRoom ?? true) {
        // Deleting the room hangs up a SIP caller (livekit-sip sends BYE) and frees the room.
        const rooms = new RoomServiceClient(
          httpUrl(cfg.LIVEKIT_URL),
          cfg.LIVEKIT_API_KEY,
          cfg.LIVEKIT_API_SECRET,
        );
        const hangUp = () => rooms.deleteRoom(roomName);
        // A browser caller has no provider call to hang up: only SIP calls are provider operations.
        await (caller?.kind === 'sip'
          ? loggedOperation(
              lifecycle.providerLog,
              'hangup',
              { method: 'DeleteRoom', room_name: roomName },
              hangUp,
              () => (caller?.sipCallId ? { providerCallId: caller.sipCallId } : {}),
            )
          : hangUp()
        ).catch(() => undefined);
      }
      await Promise.resolve(handOverEvents()).catch(() => undefined);
      // After producer.close()/flush(): every event is in Redis or the journal, or counted as
      // dropped (the process's count when the producer is shared).
      log.info({ events: sink.counts, dropped: producer.stats().dropped }, 'call events handed over');
      ctx.shutdown(outcome.reason);
    })();
    return finishing;
  };
  let portState: () => string | undefined = () => undefined;

  // Worker shutdown (drain timeout, SIGTERM past the drain): end politely, keep every event.
  ctx.addShutdownCallback(async () => {
    if (!lifecycle.ended && pipeline) {
      await say(pipeline, SHUTDOWN_GOODBYE, 8000).catch(() => undefined);
    }
    await finish({ status: 'INTERRUPTED', reason: 'worker_shutdown' }, { closeRoom: true });
  });

  // What the catch below needs to record a call that never connected.
  const setup: { flow?: string; outbound?: JobMetadata['dial'] } = {};
  try {
    const {
      metadata: meta,
      ignored,
      reason,
    } = trustedMetadata(parseJobMetadata(ctx.job.metadata), {
      secret: cfg.DISPATCH_SIGNING_SECRET,
      room: roomName,
    });
    if (ignored.length > 0)
      log.warn({ fields: ignored, reason }, 'dispatch metadata not signed by the control plane: ignored');
    setup.outbound = meta.dial;
    // A dispatched flow (outbound, API) is checked before anything is dialled.
    let chosen = meta.flow ? callFlow(meta.flow, meta.settings, meta.organization_id) : undefined;
    // A dispatched call's organization is known now: its dial is that organization's operation.
    if (chosen?.organizationId) lifecycle.organizationId = chosen.organizationId;
    setup.flow = meta.flow ?? cfg.FLOW;
    lifecycle.step('initiated', 'system', {
      flow: setup.flow,
      direction: meta.dial ? 'outbound' : 'inbound',
    });

    await ctx.connect(undefined, AutoSubscribe.AUDIO_ONLY);
    lifecycle.step('connecting', 'system');
    // An outbound call takes its organization's place before anything is dialled.
    if (meta.dial) cleanup.push(await admitWorkerCall(cfg, log, lifecycle.organizationId, callId));
    const participant = meta.dial
      ? await waitForCaller(
          ctx,
          await dialOut(cfg, meta, roomName, lifecycle, OutboundPolicy.fromConfig(cfg), meta.organization_id),
        )
      : await waitForCaller(ctx);
    caller = callerIdentity(participant);
    if (!chosen) {
      // Inbound: the dialled number's route, else the development default.
      const route = await lookupRoute(
        cfg,
        { ...(caller.trunkNumber ? { number: caller.trunkNumber } : {}) },
        log,
      );
      setup.flow = route?.flow ?? cfg.FLOW;
      try {
        chosen = callFlow(setup.flow, route?.settings ?? meta.settings, route?.organizationId);
      } catch (err) {
        // A route that cannot run (a flow since removed, settings it now rejects): tell the
        // caller politely instead of dropping the line, and record why.
        reportError('route_invalid', err instanceof Error ? err.message : String(err), 'high');
        chosen = {
          flow: 'unavailable',
          pkg: unavailableFlowPackage,
          settings: {},
          ...(route ? { organizationId: route.organizationId } : {}),
        };
      }
    }
    // An inbound call takes its place once its organization is known.
    if (!meta.dial)
      cleanup.push(await admitWorkerCall(cfg, log, chosen.organizationId ?? DEFAULT_ORGANIZATION_ID, callId));
    const { flow, pkg } = chosen;
    if (chosen.organizationId) lifecycle.organizationId = chosen.organizationId;
    log.info({ caller: loggableCaller(caller), flow }, 'caller joined');
    lifecycle.step('answered', 'telephony');
    lifecycle.started({
      room_name: roomName,
      session_id: caller.sipCallId ?? callId,
      flow,
      worker_id: ctx.workerId,
      direction: meta.dial ? 'outbound' : 'inbound',
      ...(caller.kind === 'sip'
        ? {
            sip: {
              ...(caller.sipCallId ? { call_id: caller.sipCallId } : {}),
              ...(caller.callerNumber ? { caller_number: caller.callerNumber } : {}),
              ...(caller.trunkNumber ? { trunk_number: caller.trunkNumber } : {}),
            },
          }
        : {}),
      metadata: { job_id: ctx.job.id, caller_kind: caller.kind },
    });
    // Quiet calls must not look dead to the reaper: beat until the call is finalized.
    cleanup.push(startCallHeartbeat(sink, { callId }));

    const llm = llmAssistFromConfig(cfg);
    const engine = new ConversationEngine(
      pkg.createFlow({
        settings: chosen.settings,
        resources: flowResources.get(pkg),
        defaultTimeZone: cfg.BUSINESS_TIMEZONE,
        organizationId: lifecycle.organizationId,
      }),
      {
        callId,
        ...(caller.callerNumber ? { callerNumber: caller.callerNumber } : {}),
        ...(meta.now ? { now: fixedClock(meta.now) } : {}),
        // With an OpenAI-compatible server the LLM proposes slot values; the engine validates.
        ...(llm ? { llm } : {}),
        observer: eventsObserver({
          sink,
          callId,
          flow,
          ...(chosen.organizationId ? { organizationId: chosen.organizationId } : {}),
        }),
      },
    );
    const port = toConversationPort(engine);
    portState = () => port.state;
    // The call's language picks the offline voice and what OpenAI's recognizer listens for.
    const language = pkg.spokenLanguage?.(chosen.settings) ?? 'en-US';
    const providers = await selectProviders(
      { ...cfg, FLOW: flow, LOCAL_TTS_VOICE: voiceForLanguage(language, cfg.LOCAL_TTS_VOICE) },
      {
        vad,
        openai: { language: language.split('-')[0]!.toLowerCase() },
        // pocketsphinx only hears what its language model knows: the flow's own phrases and
        // slot vocabulary recognise 42 of the 55 scripted utterances exactly, the generic
        // generic language 26 (measured by the simulate suite).
        localSttOptions: {
          language: pkg.vocabulary ? pkg.vocabulary(engine.flow) : domainLanguage(engine.flow),
          perStateSearch: cfg.LOCAL_STT_PER_STATE,
        },
        onError: (e) => pipeline?.report(e),
      },
    );
    cleanup.push(() => providers.close());

    const activeCaller = caller;
    pipeline = await startPipelineCall({
      callId,
      port,
      stt: providers.stt,
      tts: providers.tts,
      vad,
      sink,
      registry,
      labels: { provider: providers.kind, flow },
      session: { path: cfg.PIPELINE_PATH },
      room: ctx.room,
      roomInput: {
        participantIdentity: participant.identity,
        closeOnDisconnect: false,
        // The caller's audio arrives at the rate silero and our recognisers work at (rtc-node
        // resamples natively), instead of the framework's default 24 kHz, which silero and the
        // local STT would each resample per frame again. Phone audio is 8 kHz: nothing is lost.
        audioSampleRate: CALLER_AUDIO_SAMPLE_RATE,
      },
      onError: (e) => {
        recordError(e.error_type);
        log.warn({ error_type: e.error_type, err: e.message }, 'call error');
      },
      onActions: (actions) =>
        runActions(actions, {
          cfg,
          room: ctx.room,
          caller: activeCaller,
          lifecycle,
          say: (text) => (pipeline ? say(pipeline, text, 15_000) : Promise.resolve()),
          finish: (o) => finish(o),
          report: (t, m) => reportError(t, m),
        }),
    });
    lifecycle.step('in_progress', 'ai');

    ctx.room.on(RoomEvent.DtmfReceived, (_code: number, digit: string) =>
      lifecycle.step('dtmf_received', 'customer', { digit }),
    );
    const onCallerGone = () => {
      // Once the call is ending (our hang-up, a transfer, a timeout) the caller leaving is
      // its consequence, not a second hang-up.
      if (lifecycle.ended || finishing) return;
      lifecycle.step('hangup', 'customer');
      const terminal = port.isTerminal;
      void finish(
        {
          status: terminal ? 'COMPLETED' : 'INTERRUPTED',
          reason: terminal ? 'flow_complete' : 'caller_hangup',
        },
        { closeRoom: true },
      );
    };
    ctx.room.on(RoomEvent.ParticipantDisconnected, (p: RemoteParticipant) => {
      if (p.identity === participant.identity) onCallerGone();
    });
    // A caller who hung up while the pipeline was starting left before we listened.
    if (!ctx.room.remoteParticipants.has(participant.identity)) onCallerGone();
    armMaxDuration(cfg, pipeline, lifecycle, finish, cleanup);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // A busy or unanswered callee, or a dial compliance refused, is an outcome (the call's end
    // reason), not a fault.
    if (
      !(
        err instanceof NotAnsweredError ||
        err instanceof ComplianceBlockedError ||
        err instanceof CallLimitError
      )
    )
      reportError('call_setup_failed', message, 'critical');
    // Every call gets its row (room, direction, flow) even when it never connected (not
    // answered, busy, nobody joined): without call.started the persister only has a nameless
    // placeholder, and `voice-agent dial --wait` finds calls by room. No-op once started.
    lifecycle.started({
      room_name: roomName,
      session_id: callId,
      flow: (setup.flow ?? cfg.FLOW).slice(0, 100) || cfg.FLOW,
      worker_id: ctx.workerId || 'unknown',
      direction: setup.outbound ? 'outbound' : 'inbound',
      // The number we dialled, like an answered call's (encrypted at rest by the persister).
      ...(setup.outbound ? { sip: { caller_number: setup.outbound.number } } : {}),
      metadata: { job_id: ctx.job.id, connected: false },
    });
    await finish({ status: 'FAILED', reason: message.slice(0, 200) });
  }
}

/**
 * What the shared executor hands every call instead of the call's own: one event producer
 * (one Redis connection, one journal) and one set of flow resources (stores, pools) per
 * process, so a worker with 40 calls holds a handful of connections, not 40 + 80.
 */
export interface SharedCallResources {
  producer?: EventProducer;
  flowResources?: FlowResourcePool;
}

export function flowResourcePool(cfg: Config, log: Logger, maxConnections = 2): FlowResourcePool {
  return new FlowResourcePool({
    databaseUrl: cfg.DATABASE_URL,
    maxConnections,
    personalData: PiiKeyRing.fromConfig(cfg),
    warn: (message, err) => log.warn({ err: err instanceof Error ? err.message : String(err) }, message),
  });
}

async function waitForCaller(ctx: JobContext, identity?: string): Promise<RemoteParticipant> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no caller joined the room')), CALLER_WAIT_MS);
  });
  try {
    return await Promise.race([ctx.waitForParticipant(identity), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function armMaxDuration(
  cfg: Config,
  pipeline: PipelineCall,
  lifecycle: CallLifecycle,
  finish: (o: Omit<CallOutcome, 'finalState'>) => Promise<void>,
  cleanup: (() => unknown)[],
) {
  const maxMs = cfg.MAX_CALL_SECONDS * 1000;
  const warnAt = Math.max(0, maxMs - Math.min(WARNING_BEFORE_END_MS, maxMs / 2));
  const warn = setTimeout(() => {
    lifecycle.step('warning_sent', 'system', { seconds_left: Math.round((maxMs - warnAt) / 1000) });
    void say(pipeline, MAX_DURATION_WARNING, 10_000).catch(() => undefined);
  }, warnAt);
  const end = setTimeout(async () => {
    await say(pipeline, MAX_DURATION_GOODBYE, 10_000).catch(() => undefined);
    await finish({ status: 'COMPLETED', reason: 'max_duration' });
  }, maxMs);
  cleanup.push(() => {
    clearTimeout(warn);
    clearTimeout(end);
  });
}

/** Speaks outside the flow and waits (bounded) until it has played. */
async function say(pipeline: PipelineCall, text: string, maxWaitMs: number): Promise<void> {
  const handle = pipeline.session.say(text, { allowInterruptions: false });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, maxWaitMs);
    handle.addDoneCallback(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function outcomeLabel(o: Omit<CallOutcome, 'finalState'>) {
  if (o.status === 'FAILED') return 'failed' as const;
  if (o.status === 'INTERRUPTED') return 'interrupted' as const;
  if (o.reason === 'transferred') return 'transferred' as const;
  return o.reason === 'max_duration' ? ('timeout' as const) : ('completed' as const);
}

function fixedClock(iso: string): () => Date {
  // Time moves on from the given instant, so timeouts and durations stay real.
  const offset = new Date(iso).getTime() - Date.now();
  return () => new Date(Date.now() + offset);
}

export type { Logger };
