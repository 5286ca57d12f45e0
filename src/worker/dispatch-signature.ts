import { createHmac, timingSafeEqual } from 'node:crypto';
import type { JobMetadata } from './job-metadata.js';

/**
 * Dispatch metadata can make a job dial a number (`dial`) or shift the call's clock (`now`).
 * Anyone who can create a dispatch or a room with metadata could use that for toll fraud, so
 * these fields count only when the control plane signed them: our CLI and API add
 *
 *   "auth": { "v": 1, "iat": <unix seconds>, "room": "<room name>", "sig": "<base64url HMAC-SHA256>" }
 *
 * where sig = HMAC-SHA256(DISPATCH_SIGNING_SECRET, canonical JSON of { dial, flow, now, iat,
 * room } with sorted keys and absent fields left out). The signature binds the fields to one
 * room and expires after MAX_AGE_S, so a captured dispatch cannot be replayed elsewhere or later.
 * Unsigned or badly signed trusted fields are dropped (and reported to log); `flow` is honoured
 * unsigned, as choosing among deployed flows grants nothing.
 */

// organization_id and settings choose whose call this is and how the flow behaves: an
// unsigned dispatch must not pick another organization's route or settings.
export const TRUSTED_FIELDS = ['dial', 'now', 'organization_id', 'settings'] as const;
const MAX_AGE_S = 600;

export interface DispatchAuth {
  v: 1;
  iat: number;
  room: string;
  sig: string;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function signature(secret: string, meta: JobMetadata, iat: number, room: string): string {
  const signed = {
    dial: meta.dial,
    flow: meta.flow,
    now: meta.now,
    organization_id: meta.organization_id,
    settings: meta.settings,
    iat,
    room,
  };
  return createHmac('sha256', secret).update(canonical(signed)).digest('base64url');
}

/** Metadata for a dispatch into `room`, signed when it carries trusted fields. */
export function signDispatchMetadata(
  meta: JobMetadata,
  options: { secret: string | undefined; room: string; nowMs?: number },
): JobMetadata {
  const { auth: _drop, ...plain } = meta;
  if (!TRUSTED_FIELDS.some((f) => plain[f] !== undefined)) return plain;
  if (!options.secret) {
    throw new Error('DISPATCH_SIGNING_SECRET must be set to dispatch calls with dial or now');
  }
  const iat = Math.floor((options.nowMs ?? Date.now()) / 1000);
  return {
    ...plain,
    auth: { v: 1, iat, room: options.room, sig: signature(options.secret, plain, iat, options.room) },
  };
}

export interface TrustedMetadata {
  metadata: JobMetadata;
  /** Trusted fields that were present but dropped, and why (for one warning line). */
  ignored: string[];
  reason?: string;
}

function whyUntrusted(
  meta: JobMetadata,
  secret: string | undefined,
  room: string | undefined,
  nowMs: number,
) {
  const auth = meta.auth;
  if (!auth) return 'unsigned';
  if (!secret) return 'no DISPATCH_SIGNING_SECRET configured';
  if (room === undefined || auth.room !== room) return 'signed for another room';
  const age = nowMs / 1000 - auth.iat;
  if (age > MAX_AGE_S || age < -60) return 'signature expired';
  const want = Buffer.from(signature(secret, meta, auth.iat, auth.room));
  const got = Buffer.from(auth.sig);
  return want.length === got.length && timingSafeEqual(want, got) ? undefined : 'bad signature';
}

/** The metadata a job may act on: trusted fields only when signed for this room, recently. */
export function trustedMetadata(
  meta: JobMetadata,
  options: { secret: string | undefined; room: string | undefined; nowMs?: number },
): TrustedMetadata {
  const present = TRUSTED_FIELDS.filter((f) => meta[f] !== undefined);
  const { auth: _auth, ...plain } = meta;
  if (present.length === 0) return { metadata: plain, ignored: [] };
  const reason = whyUntrusted(meta, options.secret, options.room, options.nowMs ?? Date.now());
  if (!reason) return { metadata: plain, ignored: [] };
  const kept: JobMetadata = { ...plain };
  for (const f of present) delete kept[f];
  return { metadata: kept, ignored: [...present], reason };
}
