import { createHash, randomBytes } from 'node:crypto';

/**
 * API keys: 256 random bits behind a recognizable prefix ("va_"). Only the SHA-256 is
 * stored: a key has the full entropy of its random part, so a fast hash is as safe as a slow
 * one and keeps each request's check cheap. The first characters (key_prefix) are kept in
 * clear to tell keys apart in listings; they reveal nothing usable.
 */

export const API_KEY_PREFIX = 'va_';
const PREFIX_CHARS = 11;

export interface NewApiKey {
  /** The key itself: shown to its creator once, never stored. */
  key: string;
  prefix: string;
  hash: Buffer;
}

export function generateApiKey(): NewApiKey {
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  return { key, prefix: key.slice(0, PREFIX_CHARS), hash: hashApiKey(key) };
}

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** Permissions a key may carry; the admin API checks them per route. */
export const API_PERMISSIONS = [
  'calls:read',
  'routes:read',
  'routes:write',
  'settings:read',
  'settings:write',
  'customers:read',
  'customers:write',
  'users:write',
  'keys:write',
] as const;
export type ApiPermission = (typeof API_PERMISSIONS)[number];

export function parsePermissions(list: string): ApiPermission[] {
  const items = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!(API_PERMISSIONS as readonly string[]).includes(item)) {
      throw new RangeError(`unknown permission "${item}" (known: ${API_PERMISSIONS.join(', ')})`);
    }
  }
  return items as ApiPermission[];
}
