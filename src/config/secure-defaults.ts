import { parseKeyList } from '../persistence/pii.js';

/**
 * Secure by default: the public keys that make a fresh checkout work (LiveKit dev key, PII dev
 * keys, dispatch signing secret) are only accepted in an explicit development mode, and so is
 * an inbound trunk any address may call without digest auth. Anything else refuses to start.
 */

export const DEV_DISPATCH_SIGNING_SECRET = 'dev-dispatch-signing-secret-for-loopback-only';
/** Development default for the outbound allowlist: the 555 test numbers only. */
export const DEV_OUTBOUND_ALLOWLIST = '+1555*';

export interface SecurityInput {
  NODE_ENV: string;
  VOICE_AGENT_DEV: boolean;
  LIVEKIT_API_KEY: string;
  LIVEKIT_API_SECRET: string;
  PII_ENCRYPTION_KEY?: string | undefined;
  PII_HASH_KEY?: string | undefined;
  PII_KEYS?: string | undefined;
  DISPATCH_SIGNING_SECRET?: string | undefined;
  SIP_ALLOWED_ADDRESSES: string;
  SIP_AUTH_USERNAME?: string | undefined;
  SIP_AUTH_PASSWORD?: string | undefined;
}

export interface DevKeys {
  livekitKey: string;
  livekitSecret: string;
  piiEncryptionKey: string;
  piiHashKey: string;
}

/** A violation: the variable to name and why. */
export interface InsecureSetting {
  variable: string;
  detail: string;
}

const OPEN_TO_ALL = /^(0\.0\.0\.0\/0|::\/0|\*|0\.0\.0\.0)$/;

export function isDevelopmentMode(cfg: Pick<SecurityInput, 'NODE_ENV' | 'VOICE_AGENT_DEV'>): boolean {
  return cfg.NODE_ENV === 'development' || cfg.VOICE_AGENT_DEV;
}

function usesDevPiiKey(cfg: SecurityInput, dev: DevKeys): boolean {
  const ring = cfg.PII_KEYS ? [...parseKeyList(cfg.PII_KEYS).values()] : [];
  const keys = [...ring, cfg.PII_ENCRYPTION_KEY].filter((k): k is string => !!k).map((k) => k.toLowerCase());
  return keys.includes(dev.piiEncryptionKey) || keys.includes(dev.piiHashKey);
}

/** The first setting that is not acceptable outside development mode, if any. */
export function findInsecureSetting(cfg: SecurityInput, dev: DevKeys): InsecureSetting | undefined {
  const notDev =
    '(the public development default); set your own, or run with VOICE_AGENT_DEV=1 for local use';
  if (cfg.LIVEKIT_API_KEY === dev.livekitKey)
    return { variable: 'LIVEKIT_API_KEY', detail: `must not be "${dev.livekitKey}" ${notDev}` };
  if (cfg.LIVEKIT_API_SECRET === dev.livekitSecret)
    return { variable: 'LIVEKIT_API_SECRET', detail: `must not be the dev secret ${notDev}` };
  if (!cfg.PII_KEYS && !cfg.PII_ENCRYPTION_KEY) {
    return { variable: 'PII_KEYS', detail: 'must be set (or PII_ENCRYPTION_KEY) outside development mode' };
  }
  if (!cfg.PII_HASH_KEY) return { variable: 'PII_HASH_KEY', detail: 'must be set outside development mode' };
  if (cfg.PII_HASH_KEY.toLowerCase() === dev.piiHashKey || usesDevPiiKey(cfg, dev)) {
    return {
      variable: cfg.PII_KEYS ? 'PII_KEYS' : 'PII_ENCRYPTION_KEY',
      detail: `must not use a dev PII key ${notDev}`,
    };
  }
  if (cfg.DISPATCH_SIGNING_SECRET === DEV_DISPATCH_SIGNING_SECRET) {
    return { variable: 'DISPATCH_SIGNING_SECRET', detail: `must not be the dev secret ${notDev}` };
  }
  const openToAll = cfg.SIP_ALLOWED_ADDRESSES.split(',').some((a) => OPEN_TO_ALL.test(a.trim()));
  if (openToAll && !(cfg.SIP_AUTH_USERNAME && cfg.SIP_AUTH_PASSWORD)) {
    return {
      variable: 'SIP_ALLOWED_ADDRESSES',
      detail:
        "opens the inbound trunk to every address: set SIP_AUTH_USERNAME and SIP_AUTH_PASSWORD (digest auth) or list your carrier's addresses",
    };
  }
  return undefined;
}
