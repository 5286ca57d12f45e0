import { z } from 'zod';
import { flowNames } from '../../agents/index.js';
import {
  DEV_DISPATCH_SIGNING_SECRET,
  DEV_OUTBOUND_ALLOWLIST,
  findInsecureSetting,
  isDevelopmentMode,
} from './secure-defaults.js';

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

const DEV_KEYS = {
  livekitKey: DEV_LIVEKIT_KEY,
  livekitSecret: DEV_LIVEKIT_SECRET,
  piiEncryptionKey: DEV_PII_ENCRYPTION_KEY,
  piiHashKey: DEV_PII_HASH_KEY,
};

/**
 * The development flag is a property of the process (test runners, `.ci/run`, `npm run demo`
 * set it), so it also counts when a caller passes its own environment object without the flag.
 */
function devFlag(env: NodeJS.ProcessEnv): boolean {
  return ['1', 'true', 'yes'].includes(env.VOICE_AGENT_DEV ?? '');
}

export const envSchema = z.object({
  /** Anything but `development` (or VOICE_AGENT_DEV=1) refuses the public dev keys below. */
  NODE_ENV: z.enum(['development', 'test', 'production']).default('production'),
  /** 1 = development mode whatever NODE_ENV says: local tooling (.ci/run, npm test, demo, stack). */
  VOICE_AGENT_DEV: bool.default(false),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),

  LIVEKIT_URL: url(['ws:', 'wss:', 'http:', 'https:']).default('ws://127.0.0.1:7880'),
  LIVEKIT_API_KEY: z.string().min(1).default(DEV_LIVEKIT_KEY),
  LIVEKIT_API_SECRET: z.string().min(32, 'must be at least 32 characters').default(DEV_LIVEKIT_SECRET),
  AGENT_NAME: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, - and _ only')
    .default('voice-agent'),
  /** The development default flow (a call's route overrides it): the first registered package. */
  FLOW: z
    .string()
    .min(1)
    // Deferred: a flow package's own modules may load this one while agents/index.ts loads.
    .default(() => flowNames[0] ?? ''),

  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/voice_agent'),
  /**
   * Each service's own least-privilege role (docs/SECURITY.md). Unset: DATABASE_URL with the
   * role as user name (local trust auth), see serviceDatabaseUrl.
   */
  PERSISTER_DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  WORKER_DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  ADMIN_DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  REPORTING_DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
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

  /** Single key of deployments from before the key ring; joins the ring under the id `legacy`. */
  PII_ENCRYPTION_KEY: hexKey.optional(),
  PII_HASH_KEY: hexKey.optional(),
  /** Key ring: "id1:hex,id2:hex"; new data is sealed with PII_ACTIVE_KEY, old keys stay readable. */
  PII_KEYS: z.string().optional(),
  PII_ACTIVE_KEY: z.string().optional(),
  /** HMAC secret our CLI/API sign dispatch metadata with; unsigned `dial`/`now` are ignored. */
  DISPATCH_SIGNING_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Default outbound allowlist (E.164 patterns, `*` = any digits) for organizations without their own. */
  OUTBOUND_ALLOWLIST: z.string().optional(),
  /** Outbound calls an organization may start per minute (default 10; development mode 120). */
  OUTBOUND_CALLS_PER_MINUTE: positiveInt.optional(),

  EVENT_QUEUE: z.string().min(1).default('call-events'),
  EVENT_BATCH_MS: positiveInt.default(100),
  EVENT_BATCH_MAX: positiveInt.default(100),
  EVENT_BUFFER_MAX: positiveInt.default(100_000),
  EVENT_JOURNAL_DIR: z.string().min(1).default('.local/journal'),
  EVENT_JOURNAL_INSTANCE_ID: z.string().min(1).optional(),
  PERSISTER_CONCURRENCY: positiveInt.default(4),
  PERSISTER_MAX_UNEXPECTED_FAILURES: positiveInt.default(10),
  DLQ_RETENTION_DAYS: positiveInt.default(30),
  RETENTION_DAYS: positiveInt.default(90),
  /** system_metrics rows older than this are dropped (whole partitions/chunks). */
  METRICS_RETENTION_DAYS: positiveInt.default(30),
  /** telephony_provider_logs rows older than this are deleted (seed 003: 30 days). */
  TELEPHONY_LOG_RETENTION_DAYS: positiveInt.default(30),
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
  /** Address health and /metrics listen on; loopback unless you expose them on purpose. */
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  /** When set, /metrics and health answer only with `Authorization: Bearer <token>`. */
  HTTP_BEARER_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
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
  /**
   * The real-time path of every call: `fast` = flow-aware end of turn (200 ms of silence once
   * the answer is complete), TTS leading silence trimmed, 20 ms input frames; `classic` = the
   * framework's defaults (550 ms for every turn, 10 ms frames). See docs/BENCHMARKS.md.
   */
  PIPELINE_PATH: z.enum(['fast', 'classic']).default('fast'),
  /** Offline recognizer: per-state grammar searches (digits, dates, times, yes/no); see LocalSTTOptions.perStateSearch. */
  LOCAL_STT_PER_STATE: bool.default(false),
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

export interface Config
  extends Omit<Env, 'PII_HASH_KEY' | 'OUTBOUND_ALLOWLIST' | 'OUTBOUND_CALLS_PER_MINUTE'> {
  OUTBOUND_CALLS_PER_MINUTE: number;
  PII_HASH_KEY: string;
  /** Comma-separated E.164 patterns; empty = no outbound number allowed by default. */
  OUTBOUND_ALLOWLIST: string;
  /** NODE_ENV=development or VOICE_AGENT_DEV=1: the dev keys are accepted. */
  developmentMode: boolean;
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
  const developmentMode =
    isDevelopmentMode(cfg) || (env.VOICE_AGENT_DEV === undefined && devFlag(process.env));
  if (!developmentMode) {
    const insecure = findInsecureSetting(cfg, DEV_KEYS);
    if (insecure) throw new ConfigError(insecure.variable, insecure.detail);
  }
  const PII_HASH_KEY = cfg.PII_HASH_KEY ?? DEV_PII_HASH_KEY;
  const PII_ENCRYPTION_KEY = cfg.PII_ENCRYPTION_KEY ?? (cfg.PII_KEYS ? undefined : DEV_PII_ENCRYPTION_KEY);
  const DISPATCH_SIGNING_SECRET =
    cfg.DISPATCH_SIGNING_SECRET ?? (developmentMode ? DEV_DISPATCH_SIGNING_SECRET : undefined);
  const OUTBOUND_ALLOWLIST = cfg.OUTBOUND_ALLOWLIST ?? (developmentMode ? DEV_OUTBOUND_ALLOWLIST : '');
  // Test suites dial many calls a minute from the default organization.
  const OUTBOUND_CALLS_PER_MINUTE = cfg.OUTBOUND_CALLS_PER_MINUTE ?? (developmentMode ? 120 : 10);
  if (cfg.SIP_RTP_PORT_END <= cfg.SIP_RTP_PORT_START) {
    throw new ConfigError('SIP_RTP_PORT_END', 'must be greater than SIP_RTP_PORT_START');
  }
  const resolvedProvider =
    cfg.PROVIDER === 'auto' ? (cfg.OPENAI_API_KEY && !cfg.OFFLINE ? 'openai' : 'local') : cfg.PROVIDER;
  return {
    ...cfg,
    ...(PII_ENCRYPTION_KEY ? { PII_ENCRYPTION_KEY } : {}),
    PII_HASH_KEY,
    ...(DISPATCH_SIGNING_SECRET ? { DISPATCH_SIGNING_SECRET } : {}),
    OUTBOUND_ALLOWLIST,
    OUTBOUND_CALLS_PER_MINUTE,
    developmentMode,
    resolvedProvider,
  };
}
