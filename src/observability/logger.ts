import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

/**
 * Keys whose values never reach a log line: secrets and phone numbers (PII). pino's redaction
 * matches exact paths, so each key is listed at the top level and one and two levels deep,
 * which covers `log.info({ call: { caller_number } })`-style objects we actually log.
 */
const SENSITIVE_KEYS = [
  'caller_number',
  'callerNumber',
  'callee_number',
  'calleeNumber',
  'trunk_number',
  'trunkNumber',
  'phone',
  'phone_number',
  'phoneNumber',
  'caller_phone',
  'customer_phone',
  'contact_info',
  'password',
  'secret',
  'apiKey',
  'api_key',
  'apiSecret',
  'api_secret',
  'token',
  'accessToken',
  'access_token',
  'authorization',
  'PII_ENCRYPTION_KEY',
  'PII_HASH_KEY',
  'OPENAI_API_KEY',
  'LIVEKIT_API_SECRET',
];

export const REDACT_PATHS = [
  ...SENSITIVE_KEYS,
  ...SENSITIVE_KEYS.map((k) => `*.${k}`),
  ...SENSITIVE_KEYS.map((k) => `*.*.${k}`),
  'req.headers.authorization',
  'headers.authorization',
  'DATABASE_URL',
  'REDIS_URL',
];

export interface LoggerFactoryOptions {
  /** Component name, e.g. 'persister' or 'worker'. */
  name?: string;
  level?: LoggerOptions['level'];
  /** Where to write; defaults to stdout. Tests pass a stream to inspect output. */
  destination?: DestinationStream;
}

/** Creates a JSON logger that censors secrets and phone numbers wherever they appear. */
export function createLogger(options: LoggerFactoryOptions = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...(options.name ? { name: options.name } : {}),
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}

/** Strips user info (passwords) from a connection URL so it can be logged. */
export function safeUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}

export type { Logger };
