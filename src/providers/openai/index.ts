import type { stt as sttNs, VAD } from '@livekit/agents';
import * as openai from '@livekit/agents-plugin-openai';
import { OpenAI } from 'openai';
import type { Config } from '../../config/config.js';
import { SegmentedSTT } from './segmented-stt.js';
import { OpenAITTS } from './tts.js';

export { llmAssistFromConfig, OpenAILlmAssist, type OpenAILlmAssistOptions } from './llm-assist.js';
export { SegmentedSTT } from './segmented-stt.js';
export { OpenAITTS, type OpenAITTSOptions } from './tts.js';

/**
 * STT / LLM / TTS against OpenAI or any OpenAI-compatible server (OPENAI_BASE_URL: vLLM,
 * LocalAI, faster-whisper-server, LiteLLM…), through @livekit/agents-plugin-openai.
 *
 * All three share one HTTP client built here, because the plugin's own client has the SDK's
 * 10-minute default timeout: ours uses PROVIDER_TIMEOUT_MS per request and retries a failed
 * request once (SDK retries: connection errors, 408/409/429/5xx). After that the fallback
 * adapters (see ../select.ts) move to the local provider.
 *
 * STT uses the batch transcription endpoint (`/audio/transcriptions`), not the realtime
 * websocket: that is what OpenAI-compatible servers implement. Given a VAD it runs behind it
 * as a {@link SegmentedSTT} (one request per utterance; a failed request fails the stream so a
 * fallback adapter can switch provider). Set `realtimeStt` to use OpenAI's realtime
 * transcription websocket instead. TTS is an {@link OpenAITTS} (failures end the audio
 * instead of leaking unhandled rejections).
 */
export interface OpenAIProviderOptions {
  apiKey: string;
  baseURL?: string;
  sttModel: string;
  llmModel: string;
  ttsModel: string;
  ttsVoice: string;
  /** Per request. */
  timeoutMs: number;
  /** SDK-level retries of one request. Default 1. */
  maxRetries?: number;
  language?: string;
  realtimeStt?: boolean;
  /** Share a client (tests inject a fake fetch through it). */
  client?: OpenAI;
}

export interface OpenAIProviders {
  /** SegmentedSTT when a VAD was given (batch mode), else the plugin STT. */
  stt: sttNs.STT;
  llm: openai.LLM;
  tts: OpenAITTS;
  client: OpenAI;
}

export function openAIOptionsFromConfig(cfg: Config): OpenAIProviderOptions {
  if (!cfg.OPENAI_API_KEY) {
    throw new Error('OPENAI_API_KEY is required for the openai provider');
  }
  return {
    apiKey: cfg.OPENAI_API_KEY,
    ...(cfg.OPENAI_BASE_URL ? { baseURL: cfg.OPENAI_BASE_URL } : {}),
    sttModel: cfg.OPENAI_STT_MODEL,
    llmModel: cfg.OPENAI_LLM_MODEL,
    ttsModel: cfg.OPENAI_TTS_MODEL,
    ttsVoice: cfg.OPENAI_TTS_VOICE,
    timeoutMs: cfg.PROVIDER_TIMEOUT_MS,
  };
}

export function createOpenAIClient(opts: OpenAIProviderOptions): OpenAI {
  return (
    opts.client ??
    new OpenAI({
      apiKey: opts.apiKey,
      ...(opts.baseURL ? { baseURL: opts.baseURL } : {}),
      timeout: opts.timeoutMs,
      maxRetries: opts.maxRetries ?? 1,
    })
  );
}

export function createOpenAIProviders(
  opts: OpenAIProviderOptions,
  extra: { vad?: VAD; hasFallback?: boolean } = {},
): OpenAIProviders {
  const client = createOpenAIClient(opts);
  const common = { apiKey: opts.apiKey, client, ...(opts.baseURL ? { baseURL: opts.baseURL } : {}) };
  const realtime = opts.realtimeStt ?? false;
  const plugin = new openai.STT({
    ...common,
    model: opts.sttModel,
    language: opts.language ?? 'en',
    useRealtime: realtime,
  });
  const stt = !realtime && extra.vad ? new SegmentedSTT(plugin, extra.vad) : plugin;
  const llm = new openai.LLM({ ...common, model: opts.llmModel });
  const tts = new OpenAITTS({
    client,
    model: opts.ttsModel,
    // the server decides which voices exist; the plugin's union only lists OpenAI's
    voice: opts.ttsVoice,
    hasFallback: extra.hasFallback ?? false,
  });
  return { stt, llm, tts, client };
}
