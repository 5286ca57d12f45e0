import { z } from 'zod';

/**
 * Every setting the worker, persister and CLI read from the environment, in one place.
 * Defaults point at the local stack that `voice-agent stack up` starts, so a newcomer needs
 * no .env at all; production overrides what it needs.
 */

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');
const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );
const hexKey = z
  .string()
  .regex(
    /^[0-9a-fA-F]{64}$/,
    'must be 64 hex characters (32 bytes); generate one with `openssl rand -hex 32`',
  );

/** Dev-only keys: the same values live in livekit.yaml. Never use them outside loopback. */
export const DEV_LIVEKIT_KEY = 'devkey';
export const DEV_LIVEKIT_SECRET = 'devsecret-for-loopback-only-0123456789abcdef';
/** Dev-only PII keys so local calls work out of the box; `production` refuses them. */
export const DEV_PII_ENCRYPTION_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
export const DEV_PII_HASH_KEY = 'ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100';

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),

  LIVEKIT_URL: url(['ws:', 'wss:', 'http:', 'https:']).default('ws://127.0.0.1:7880'),
  LIVEKIT_API_KEY: z.string().min(1).default(DEV_LIVEKIT_KEY),
  LIVEKIT_API_SECRET: z.string().min(32, 'must be at least 32 characters').default(DEV_LIVEKIT_SECRET),
  AGENT_NAME: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, - and _ only')
    .default('voice-agent'),
  FLOW: z.string().min(1).default('appointment-booking'),

  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/voice_agent'),
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),

  /** fake: instant FAKE speech providers for load tests and benchmarks only (never real callers). */
  PROVIDER: z.enum(['auto', 'local', 'openai', 'fake']).default('auto'),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: url(['http:', 'https:']).optional(),
  OPENAI_STT_MODEL: z.string().default('gpt-4o-mini-transcribe'),
  OPENAI_LLM_MODEL: z.string().default('gpt-4o-mini'),
  OPENAI_TTS_MODEL: z.string().default('gpt-4o-mini-tts'),
  OPENAI_TTS_VOICE: z.string().default('alloy'),
  PROVIDER_TIMEOUT_MS: positiveInt.default(8000),
  LOCAL_TTS_VOICE: z.string().default('slt'),

  PII_ENCRYPTION_KEY: hexKey.default(DEV_PII_ENCRYPTION_KEY),
  PII_HASH_KEY: hexKey.default(DEV_PII_HASH_KEY),

  EVENT_QUEUE: z.string().min(1).default('call-events'),
  EVENT_BATCH_MS: positiveInt.default(100),
  EVENT_BATCH_MAX: positiveInt.default(100),
  EVENT_BUFFER_MAX: positiveInt.default(100_000),
  EVENT_JOURNAL_DIR: z.string().min(1).default('.local/journal'),
  PERSISTER_CONCURRENCY: positiveInt.default(4),
  RETENTION_DAYS: positiveInt.default(90),
  /** system_metrics rows older than this are dropped (whole partitions/chunks). */
  METRICS_RETENTION_DAYS: positiveInt.default(30),
  /** conversations_archive rows older than this are deleted for good. */
  ARCHIVE_RETENTION_DAYS: positiveInt.default(365),
  /** An ACTIVE call without a heartbeat for this long is marked INTERRUPTED (worker died). */
  REAPER_STALE_SECONDS: positiveInt.default(30),
  /** How often each persister looks for such calls. */
  REAPER_INTERVAL_SECONDS: positiveInt.default(10),

  BUSINESS_TIMEZONE: z.string().default('UTC'),
  MAX_CONCURRENT_CALLS: positiveInt.default(40),
  MAX_CALL_SECONDS: positiveInt.default(900),
  HTTP_PORT: port.default(8081),
  /** Above this load (max of CPU and active calls / MAX_CONCURRENT_CALLS) LiveKit sends no new calls. */
  WORKER_LOAD_THRESHOLD: z.coerce.number().gt(0).max(1).default(0.9),
  /**
   * Count the worker's own CPU (its process and job processes, as a share of the machine's
   * cores; shared executor: or its event-loop utilization, if higher) in the load reported to
   * LiveKit; `false` reports only active calls /
   * MAX_CONCURRENT_CALLS (tests, whose machine is busy with other suites, and bench:load).
   */
  WORKER_LOAD_INCLUDE_CPU: bool.default(true),
  /**
   * How calls run: `shared` = every call inside the worker process (one runtime and silero
   * model for all: ~65–80 MB and ~0.14–0.16 core per call); `process` = the framework's process
   * per call (isolated, ~255–275 MB and ~0.22–0.26 core per call). Chosen by bench:load, see
   * docs/BENCHMARKS.md.
   */
  WORKER_EXECUTOR: z.enum(['process', 'shared']).default('shared'),
  /** Job processes kept warm (silero loaded) so a call does not wait for a process start. */
  WORKER_IDLE_PROCESSES: z.coerce.number().int().min(0).max(64).default(2),
  /** On SIGTERM, active calls may run this long before they are ended politely. */
  DRAIN_TIMEOUT_SECONDS: positiveInt.default(120),

  SIP_PORT: port.default(5060),
  SIP_RTP_PORT_START: port.default(10000),
  SIP_RTP_PORT_END: port.default(10999),
  SIP_TRANSFER_TO: z.string().optional(),
  SIP_INBOUND_NUMBERS: z.string().default('+15550100'),
  SIP_ALLOWED_ADDRESSES: z.string().default('127.0.0.1/32'),
  SIP_AUTH_USERNAME: z.string().optional(),
  SIP_AUTH_PASSWORD: z.string().optional(),
  SIP_ROOM_PREFIX: z.string().min(1).default('call-'),
  SIP_OUTBOUND_ADDRESS: z.string().default('127.0.0.1:5070'),
  SIP_OUTBOUND_NUMBER: z.string().default('+15550100'),
  SIP_OUTBOUND_USERNAME: z.string().optional(),
  SIP_OUTBOUND_PASSWORD: z.string().optional(),

  STACK_DIR: z.string().min(1).default('.local'),
  OFFLINE: bool.default(false),
});

export type Env = z.infer<typeof envSchema>;

export interface Config extends Env {
  /** Provider actually used, after resolving `auto`. */
  resolvedProvider: 'local' | 'openai' | 'fake';
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`Invalid configuration: ${variable} ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings in .env files mean "unset", not "invalid".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    throw new ConfigError(variable, issue.message.replace(/^Invalid input: /, ''));
  }
  const cfg = parsed.data;
  if (cfg.PROVIDER === 'openai' && !cfg.OPENAI_API_KEY) {
    throw new ConfigError('OPENAI_API_KEY', 'is required when PROVIDER=openai');
  }
  if (cfg.NODE_ENV === 'production') {
    if (cfg.PII_ENCRYPTION_KEY === DEV_PII_ENCRYPTION_KEY || cfg.PII_HASH_KEY === DEV_PII_HASH_KEY) {
      throw new ConfigError(
        'PII_ENCRYPTION_KEY',
        'must be set to your own key in production (not the dev default)',
      );
    }
    if (cfg.LIVEKIT_API_SECRET === DEV_LIVEKIT_SECRET) {
      throw new ConfigError('LIVEKIT_API_SECRET', 'must be set in production (not the dev default)');
    }
  }
  if (cfg.SIP_RTP_PORT_END <= cfg.SIP_RTP_PORT_START) {
    throw new ConfigError('SIP_RTP_PORT_END', 'must be greater than SIP_RTP_PORT_START');
  }
  const resolvedProvider =
    cfg.PROVIDER === 'auto' ? (cfg.OPENAI_API_KEY && !cfg.OFFLINE ? 'openai' : 'local') : cfg.PROVIDER;
  return { ...cfg, resolvedProvider };
}
