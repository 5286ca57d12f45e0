import { type DestinationStream, type Logger, type LoggerOptions, pino, stdSerializers } from 'pino';

/**
 * Secrets and callers' phone numbers never reach a log line. Two layers, applied to every log
 * object, child-logger binding and message string, at any depth:
 * - by key: values under sensitive keys (phone/caller fields, passwords, secrets, API keys,
 *   tokens, PII keys, SIP attributes such as `sip.phoneNumber`) are replaced whole;
 * - by value: phone-number-shaped runs inside any string (a SIP identity `sip_+1555…`, a room
 *   name `call-+1555…_x`, a From header) and passwords inside connection URLs are masked,
 *   because numbers leak through fields nobody thought of as PII.
 * pino's own path-based `redact` cannot do either at arbitrary depth, so this runs as a
 * logMethod hook (and a bindings formatter) instead; objects are copied, never modified.
 */

export const REDACTED = '[redacted]';
export const PHONE_MASK = '[phone]';

/** Keys are compared lower-cased with everything but letters and digits removed. */
const normalize = (key: string) => key.toLowerCase().replace(/[^a-z0-9]/g, '');

const SENSITIVE_EXACT = new Set(
  [
    'from',
    'phone',
    'msisdn',
    'ani',
    'callerid',
    'contact_info',
    'caller_phone',
    'customer_phone',
    'authorization',
    'cookie',
    'set-cookie',
    'DATABASE_URL',
    'REDIS_URL',
    'PII_KEYS',
    'connectionString',
  ].map(normalize),
);

/** Key endings that are sensitive whatever comes before (`sip.trunkPhoneNumber`, `OPENAI_API_KEY`). */
const SENSITIVE_SUFFIX =
  /(phone|phonenumber|callernumber|calleenumber|trunknumber|password|passwd|passphrase|secret|apikey|token|privatekey|encryptionkey|hashkey|credentials)$/;

export function isSensitiveKey(key: string): boolean {
  const k = normalize(key);
  return SENSITIVE_EXACT.has(k) || SENSITIVE_SUFFIX.test(k);
}

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
// Phone shapes, not preceded or followed by letters/digits (so hex ids and longer numbers'
// fragments are left alone): "+" then 7–15 digits with optional separators; a bare run of
// 7–15 digits; US-style 555-010-2000 / (555) 010-2000. UUIDs are matched first and kept.
const PHONE_OR_UUID = new RegExp(
  [
    `(${UUID})`,
    '(?<![0-9A-Za-z])\\+\\d(?:[\\s().-]{0,2}\\d){6,14}(?![0-9A-Za-z])',
    '(?<![0-9A-Za-z])\\d{7,15}(?![0-9A-Za-z])',
    '(?<![0-9A-Za-z])\\(?\\d{3}\\)?[\\s.-]\\d{3}[\\s.-]\\d{4}(?![0-9A-Za-z])',
  ].join('|'),
  'g',
);
// Up to the last "@" of the URL, so a password containing "/" or ":" is masked whole.
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):\S*@/gi;

/** Masks phone numbers and URL passwords inside a string. */
export function scrubString(s: string): string {
  if (!/\d{3}|:\/\//.test(s)) return s; // fast path: nothing that could match
  return s
    .replace(URL_PASSWORD, '$1:***@')
    .replace(PHONE_OR_UUID, (match, uuid: string | undefined) => (uuid ? match : PHONE_MASK));
}

const MAX_DEPTH = 12;

/**
 * A copy of `value` safe to log: sensitive keys redacted, strings scrubbed, at any depth.
 * Errors become pino's usual {type, message, stack, ...} shape (scrubbed); objects with
 * toJSON (Dates excepted, protobuf messages included) are redacted in their JSON form.
 */
export function redact(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date || Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  try {
    if (value instanceof Error) return redact(stdSerializers.err(value), depth + 1, seen);
    if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, seen));
    if (value instanceof Map) return redact(Object.fromEntries(value), depth + 1, seen);
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return redact(toJSON.call(value), depth + 1, seen);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] =
        isSensitiveKey(k) && v !== undefined && v !== null && v !== ''
          ? REDACTED
          : redact(v, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/**
 * LiveKit participant attributes (e.g. livekit-sip's `sip.phoneNumber`, `sip.trunkPhoneNumber`)
 * made safe to log.
 */
export function redactAttributes(
  attrs: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  return (redact(attrs ?? {}) as Record<string, string>) ?? {};
}

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
    // The std err serializer would re-wrap the already serialized (and scrubbed) error.
    serializers: { err: (e: unknown) => (e instanceof Error ? redact(e) : e) },
    hooks: {
      // Every argument of every log call, before pino sees it: pino derives the message of
      // log.error(err) from err.message, so the object must already be clean by then.
      logMethod(args, method) {
        const safe = args.map((a, i) => {
          if (typeof a === 'string') return scrubString(a);
          if (i === 0 && a instanceof Error) return { err: redact(a) };
          return redact(a);
        }) as typeof args;
        method.apply(this, safe);
      },
    },
    ...(options.name ? { name: options.name } : {}),
  };
  const logger = options.destination ? pino(opts, options.destination) : pino(opts);
  // Child bindings skip logMethod, and pino applies the bindings formatter to the root only.
  // Children are created with Object.create(parent), so this own property is inherited by
  // every descendant and runs with `this` = the logger being extended.
  type ChildFn = (this: Logger, bindings: Record<string, unknown>, options?: unknown) => Logger;
  const child = (Object.getPrototypeOf(logger) as { child: ChildFn }).child;
  (logger as unknown as { child: ChildFn }).child = function (this: Logger, bindings, childOptions) {
    return child.call(this, redact(bindings) as Record<string, unknown>, childOptions);
  };
  return logger;
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
