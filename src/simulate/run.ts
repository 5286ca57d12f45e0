import type { stt, tts, VAD } from '@livekit/agents';
import { z } from 'zod';
import { checkFlowExpectations, createScriptedEngine } from '../../agents/call-scripts.js';
import { flowNames, getFlowPackage, isFlowName } from '../../agents/index.js';
import { type Config, loadConfig } from '../config/config.js';
import { type ConversationEngine, domainLanguage, toConversationPort } from '../conversation/index.js';
import type { EventSink } from '../events/index.js';
import type { PipelineErrorRecord } from '../pipeline/errors.js';
import {
  type CallerScript,
  type CallerTurn,
  type SimulateCallOptions,
  type SimulationResult,
  type Synthesizer,
  simulateCall,
} from '../pipeline/simulator.js';
import { loadSileroVad } from '../pipeline/vad.js';
import { LocalSTT, LocalTTS, parseVoice, synthesizeText, voiceSampleRate } from '../providers/local/index.js';
import { llmAssistFromConfig } from '../providers/openai/llm-assist.js';
import { type SelectedProviders, selectProviders } from '../providers/select.js';
import { checkExpectations, type SimulationReport, toReport } from './report.js';
import { type LoadedScript, ScriptError, toCallerScript } from './script.js';

/**
 * One simulated call from a loaded caller script, wired like a real call: the flow's engine
 * (the package's offline resources seeded from `setup`), the providers the configuration selects
 * (local: pocketsphinx restricted to the flow's own domain language + flite; openai when a
 * key is set), silero VAD, and the caller's turns synthesized offline with the script's
 * voice. The CLI and the audio-level tests both go through here.
 */

export interface RunSimulationOptions {
  /** Overrides the script's `flow` (default: config FLOW). */
  flow?: string;
  /** ISO 8601; overrides the script's `now`. Without either the engine uses the wall clock. */
  now?: string;
  fast?: boolean;
  /** Write the agent's audio (what the caller heard) here. */
  recordPath?: string;
  /** Default: loadConfig() of the environment. */
  config?: Config;
  /**
   * Providers to use instead of the configured ones (tests share them across calls). When
   * `stt` is omitted a LocalSTT on the flow's domain language is made per call.
   */
  providers?: { stt?: stt.STT; tts?: tts.TTS; vad?: VAD };
  /** Where call events go (the CLI prints turns from here as they happen). */
  sink?: EventSink;
  callId?: string;
  /** Engine randomness (confirmation codes); default crypto. */
  random?: () => number;
  /** Called once the script, flow and clock are validated, just before the call starts. */
  onReady?: (info: { flow: string; now: string | undefined }) => void;
  /** Passed through to simulateCall (timeouts, session tweaks). */
  simulator?: Pick<
    SimulateCallOptions,
    'replyTimeoutMs' | 'settleMs' | 'maxCallMs' | 'controller' | 'session' | 'logLevel' | 'realtimePlayout'
  >;
}

export interface SimulationRun {
  result: SimulationResult;
  /** The `--json` object. */
  report: SimulationReport;
  /** Unmet `expect:` entries; null when the script has no expectations. */
  failures: string[] | null;
  providers: { kind: 'local' | 'openai' | 'fake' | 'custom'; stt: string; tts: string };
}

const isoDateTime = z.iso.datetime({ offset: true });

/** Flow and clock of the call: command line over script over configuration. */
export function resolveCallSettings(
  loaded: LoadedScript,
  options: Pick<RunSimulationOptions, 'flow' | 'now'>,
  cfg: Pick<Config, 'FLOW'>,
): { flow: string; now: string | undefined } {
  const flow = options.flow ?? loaded.script.flow ?? cfg.FLOW;
  if (!isFlowName(flow)) {
    const from = options.flow ? '--flow' : loaded.script.flow ? `${loaded.path}: flow` : 'FLOW';
    throw new ScriptError(`${from}: unknown flow "${flow}" (known: ${flowNames.join(', ')})`);
  }
  if (options.now !== undefined && !isoDateTime.safeParse(options.now).success) {
    throw new ScriptError(
      `--now: "${options.now}" is not an ISO 8601 date-time with an offset (e.g. 2025-03-05T15:00:00Z)`,
    );
  }
  return { flow, now: options.now ?? loaded.script.now };
}

function makeEngine(
  loaded: LoadedScript,
  flow: string,
  now: string | undefined,
  cfg: Config,
  options: RunSimulationOptions,
) {
  const { script } = loaded;
  // As in the worker: with OpenAI configured an LLM proposes slot values (the engine validates).
  const llm = llmAssistFromConfig(cfg);
  // The scripted engine's clock stands still at `now`,
  // which makes "next tuesday" reproducible. Without a `now` the wall clock runs instead.
  const { engine } = createScriptedEngine(
    { flow, now: now ?? new Date().toISOString(), setup: script.setup, settings: script.settings },
    {
      ...(options.callId ? { callId: options.callId } : {}),
      ...(options.random ? { random: options.random } : {}),
      ...(now === undefined ? { now: () => new Date() } : {}),
      ...(llm ? { llm } : {}),
    },
  );
  return engine;
}

/** Caller voice: flite/espeak-ng, checked before the call so a bad name fails up front. */
function callerSynthesizer(loaded: LoadedScript) {
  let voice: ReturnType<typeof parseVoice>;
  try {
    voice = parseVoice(loaded.script.voice);
  } catch (err) {
    throw new ScriptError(`${loaded.path}: voice: ${(err as Error).message}`);
  }
  const rate = voiceSampleRate(voice);
  return async (text: string) => {
    try {
      return { sampleRate: rate, samples: await synthesizeText(text, voice) };
    } catch (err) {
      // e.g. an espeak-ng voice that does not exist: the script's fault, say which setting.
      throw new ScriptError(`${loaded.path}: voice "${loaded.script.voice}": ${(err as Error).message}`);
    }
  };
}

async function synthesizeTurns(script: CallerScript, synthesize: Synthesizer): Promise<CallerScript> {
  const turns: CallerTurn[] = [];
  for (const turn of script.turns) {
    if (!('say' in turn)) {
      turns.push(turn);
      continue;
    }
    const { say, ...rest } = turn;
    turns.push({ audio: await synthesize(say), transcript: say, ...rest });
  }
  return { ...script, turns };
}

async function openProviders(
  engine: ConversationEngine,
  cfg: Config,
  options: RunSimulationOptions,
  onError: (e: PipelineErrorRecord) => void,
): Promise<{
  stt: stt.STT;
  tts: tts.TTS;
  vad: VAD;
  kind: SimulationRun['providers']['kind'];
  close(): Promise<void>;
}> {
  const vad = options.providers?.vad ?? (await loadSileroVad());
  const given = options.providers;
  if (given?.stt && given.tts) {
    return { stt: given.stt, tts: given.tts, vad, kind: 'custom', close: async () => {} };
  }
  // pocketsphinx is only usable restricted to what callers of this flow say: build the
  // language from the flow itself (its slots' sample phrases and vocabulary).
  const pkg = getFlowPackage(engine.flow.name);
  const language = pkg.vocabulary ? pkg.vocabulary(engine.flow) : domainLanguage(engine.flow);
  const selected: SelectedProviders = await selectProviders(cfg, {
    vad,
    local: (c) => ({
      stt: new LocalSTT({ language, perStateSearch: c.LOCAL_STT_PER_STATE }),
      tts: new LocalTTS({ voice: c.LOCAL_TTS_VOICE }),
    }),
    onError,
  });
  return {
    stt: given?.stt ?? selected.stt,
    tts: given?.tts ?? selected.tts,
    vad,
    kind: given?.stt || given?.tts ? 'custom' : selected.kind,
    close: () => selected.close(),
  };
}

export async function runSimulation(
  loaded: LoadedScript,
  options: RunSimulationOptions = {},
): Promise<SimulationRun> {
  const cfg = options.config ?? loadConfig();
  const { flow, now } = resolveCallSettings(loaded, options, cfg);
  // Everything that can be wrong with the script fails here, before the call is announced:
  // audio files are decoded and the caller's speech synthesized (so a bad voice fails too).
  const script = await synthesizeTurns(await toCallerScript(loaded), callerSynthesizer(loaded));
  const engine = makeEngine(loaded, flow, now, cfg, options);
  options.onReady?.({ flow, now });

  const providerErrors: PipelineErrorRecord[] = [];
  const providers = await openProviders(engine, cfg, options, (e) => providerErrors.push(e));
  let result: SimulationResult;
  try {
    result = await simulateCall({
      port: toConversationPort(engine),
      flow,
      script,
      providers: { stt: providers.stt, tts: providers.tts, vad: providers.vad },
      fast: options.fast ?? false,
      ...(options.callId ? { callId: options.callId } : {}),
      ...(options.sink ? { sink: options.sink } : {}),
      ...(options.recordPath ? { agentWavPath: options.recordPath } : {}),
      ...options.simulator,
    });
  } finally {
    await providers.close();
  }
  result.errors.push(...providerErrors);
  const report = toReport(result);
  return {
    result,
    report,
    failures: loaded.script.expect
      ? checkExpectations(report, loaded.script.expect, (records) =>
          checkFlowExpectations(flow, loaded.script.expect!, records),
        )
      : null,
    providers: { kind: providers.kind, stt: providers.stt.label, tts: providers.tts.label },
  };
}
