import { type llm, stt, tts, type VAD } from '@livekit/agents';
import type { Config } from '../config/config.js';
import { createLoadTestProviders } from './fake/load-test.js';
import {
  createOpenAIProviders,
  type OpenAIProviderOptions,
  openAIOptionsFromConfig,
} from './openai/index.js';

/**
 * Chooses the STT / TTS (and the LLM handed to the conversation engine) for a call from the
 * configuration (`resolvedProvider`).
 *
 * local:  local STT + local TTS (offline; no LLM — the engine runs on rules and templates).
 * fake:   instant FAKE STT (a fixed rotation of transcripts, one per detected utterance) and
 *         FAKE TTS (a tone) — for load tests and benchmarks only; see ./fake/load-test.ts.
 * openai: failure chain per request —
 *   1. per-request timeout (PROVIDER_TIMEOUT_MS) and one SDK retry;
 *   2. the framework FallbackAdapter switches to the local provider (and keeps probing
 *      OpenAI in the background, switching back when it recovers);
 *   3. engine failures become a spoken apology (ConversationController);
 *   every failure and every switch is reported through `onError` (→ `error` call events).
 *   The LLM has no fallback: when it fails the engine carries on without it.
 */
/**
 * A provider failure or switch; structurally the pipeline's PipelineErrorRecord (kept here so
 * providers do not depend on the pipeline).
 */
export interface ProviderErrorRecord {
  error_type: string;
  message: string;
  severity: 'low' | 'medium' | 'high' | 'critical';
  recoverable: boolean;
  context?: Record<string, unknown>;
  at: number;
}
export type ProviderErrorReporter = (error: ProviderErrorRecord) => void;

export interface LocalProviders {
  stt: stt.STT;
  tts: tts.TTS;
}

/**
 * Builds the offline providers. Default: `createLocalProviders(cfg)` of ./local when it exists,
 * else `new LocalSTT(localSttOptions)` + `new LocalTTS({ voice: LOCAL_TTS_VOICE })`.
 */
export type LocalProviderLoader = (cfg: Config) => LocalProviders | Promise<LocalProviders>;

export interface SelectProvidersOptions {
  /** Required to run non-streaming STTs (OpenAI batch transcription) inside the fallback adapter. */
  vad: VAD;
  local?: LocalProviderLoader;
  /**
   * Options for the default loader's LocalSTT — above all `language`, the flow's domain
   * language (pocketsphinx is useless on open English): hosts pass the flow package's.
   */
  localSttOptions?: Record<string, unknown>;
  /** Overrides of the OpenAI settings taken from the config (e.g. an injected client). */
  openai?: Partial<OpenAIProviderOptions>;
  onError?: ProviderErrorReporter;
}

export interface SelectedProviders {
  kind: 'local' | 'openai' | 'fake';
  stt: stt.STT;
  tts: tts.TTS;
  /** For the conversation engine (slot proposals); undefined in local mode. */
  llm?: llm.LLM;
  /** Provider labels in fallback order, for logs. */
  chain: { stt: string[]; tts: string[]; llm: string[] };
  close(): Promise<void>;
}

/** Loads src/providers/local (without a compile-time dependency on its exact exports). */
export function defaultLocalLoader(sttOptions?: Record<string, unknown>): LocalProviderLoader {
  return async (cfg) => {
    const specifier = './local/index.js';
    const mod = (await import(specifier)) as {
      createLocalProviders?: (cfg: Config) => LocalProviders | Promise<LocalProviders>;
      LocalSTT?: new (opts?: Record<string, unknown>) => stt.STT;
      LocalTTS?: new (opts?: Record<string, unknown>) => tts.TTS;
    };
    if (mod.createLocalProviders) return mod.createLocalProviders(cfg);
    if (mod.LocalSTT && mod.LocalTTS) {
      return {
        stt: new mod.LocalSTT({ ...sttOptions }),
        tts: new mod.LocalTTS({ voice: cfg.LOCAL_TTS_VOICE }),
      };
    }
    throw new Error('src/providers/local exports neither createLocalProviders nor LocalSTT/LocalTTS');
  };
}

export async function selectProviders(
  cfg: Config,
  options: SelectProvidersOptions,
): Promise<SelectedProviders> {
  const loadLocal = options.local ?? defaultLocalLoader(options.localSttOptions);
  const report: ProviderErrorReporter = options.onError ?? (() => {});

  if (cfg.resolvedProvider === 'fake') {
    const fake = createLoadTestProviders();
    return {
      kind: 'fake',
      stt: fake.stt,
      tts: fake.tts,
      chain: { stt: [fake.stt.label], tts: [fake.tts.label], llm: [] },
      close: async () => {
        await Promise.allSettled([fake.stt.close(), fake.tts.close()]);
      },
    };
  }

  if (cfg.resolvedProvider === 'local') {
    const local = await loadLocal(cfg);
    return {
      kind: 'local',
      stt: local.stt,
      tts: local.tts,
      chain: { stt: [local.stt.label], tts: [local.tts.label], llm: [] },
      close: async () => {
        await Promise.allSettled([local.stt.close(), local.tts.close()]);
      },
    };
  }

  let local: LocalProviders | undefined;
  try {
    local = await loadLocal(cfg);
  } catch (err) {
    report({
      error_type: 'provider_unavailable',
      message: `local providers could not be loaded, OpenAI runs without fallback: ${err instanceof Error ? err.message : String(err)}`,
      severity: 'medium',
      recoverable: true,
      context: { provider: 'local' },
      at: Date.now(),
    });
  }

  const remote = createOpenAIProviders(
    { ...openAIOptionsFromConfig(cfg), ...options.openai },
    { vad: options.vad, hasFallback: local !== undefined },
  );
  const sttChain = local ? [remote.stt, local.stt] : [remote.stt];
  const ttsChain = local ? [remote.tts, local.tts] : [remote.tts];
  const sttAdapter = new stt.FallbackAdapter({
    sttInstances: sttChain,
    vad: options.vad,
    attemptTimeoutMs: cfg.PROVIDER_TIMEOUT_MS,
    maxRetryPerSTT: 1,
    retryIntervalMs: 500,
  });
  // Recovery probes synthesize a test sentence with the failed TTS every recoveryDelayMs; each
  // failed probe is another tts_error on record, so probe sparingly.
  const ttsAdapter = new tts.FallbackAdapter({
    ttsInstances: ttsChain,
    maxRetryPerTTS: 1,
    recoveryDelayMs: 30_000,
  });

  const onAvailability =
    (kind: 'stt' | 'tts') => (ev: { stt?: stt.STT; tts?: tts.TTS; available: boolean }) => {
      const label = ev.stt?.label ?? ev.tts?.label ?? kind;
      report({
        error_type: ev.available ? 'provider_recovered' : 'provider_unavailable',
        message: ev.available
          ? `${label} is available again`
          : `${label} failed; using the next ${kind} provider`,
        severity: ev.available ? 'low' : 'medium',
        recoverable: true,
        context: { provider: label, kind },
        at: Date.now(),
      });
    };
  // The adapters emit these outside their typed event maps.
  (sttAdapter as unknown as NodeJS.EventEmitter).on('stt_availability_changed', onAvailability('stt'));
  (ttsAdapter as unknown as NodeJS.EventEmitter).on('tts_availability_changed', onAvailability('tts'));
  // A failed OpenAI STT request: the STT adapter does not forward child errors (the session
  // would close on an unrecoverable stt_error), so record it here.
  remote.stt.on('error', (ev) => {
    report({
      error_type: 'stt_error',
      message: ev.error.message,
      severity: 'medium',
      recoverable: local !== undefined,
      context: { provider: ev.label },
      at: ev.timestamp,
    });
  });
  // TTS errors reach the session (and its error events) through the adapter while a call is
  // running; between calls the adapter's recovery probes still fail, and an EventEmitter
  // 'error' without a listener throws. Keep one listener on the adapter at all times.
  ttsAdapter.on('error', () => undefined);

  return {
    kind: 'openai',
    stt: sttAdapter,
    tts: ttsAdapter,
    llm: remote.llm,
    chain: {
      stt: sttAdapter.sttInstances.map((s) => s.label),
      tts: ttsAdapter.ttsInstances.map((t) => t.label),
      llm: [remote.llm.label()],
    },
    close: async () => {
      await Promise.allSettled([sttAdapter.close(), ttsAdapter.close(), remote.llm.aclose()]);
    },
  };
}

// The hook the pipeline calls after every reply (kept small: the pipeline imports it).
export { applyExpectation } from './expectation-sink.js';
