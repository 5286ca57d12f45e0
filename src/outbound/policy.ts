import { Redis } from 'ioredis';
import type pg from 'pg';
import { DEFAULT_ORGANIZATION_ID } from '../events/model.js';

/**
 * Who may be called: an outbound number must match one of the organization's E.164 patterns
 * (organizations.outbound_allowlist, else the deployment's OUTBOUND_ALLOWLIST), and each
 * organization may start at most N outbound calls per minute (a Redis counter per
 * organization and minute, shared by every worker and CLI). Checked by `voice-agent dial`
 * before it dispatches and again by the worker before it dials, so a forged dispatch that
 * slipped past the signature check still cannot reach premium numbers or flood a trunk.
 */

export class OutboundRefusedError extends Error {
  override name = 'OutboundRefusedError';
}

/** "+1555*,+4420*" → patterns; `*` stands for any run of digits. Throws on a malformed pattern. */
export function parseAllowlist(list: string | readonly string[]): RegExp[] {
  const items = (typeof list === 'string' ? list.split(',') : [...list]).map((p) => p.trim()).filter(Boolean);
  return items.map((p) => {
    if (!/^\+\d[\d*]*$/.test(p))
      throw new OutboundRefusedError(
        `outbound allowlist pattern "${p}" must be + and digits, * for any digits`,
      );
    return new RegExp(`^${p.replace('+', '\\+').replace(/\*/g, '\\d*')}$`);
  });
}

export function isAllowed(number: string, patterns: readonly RegExp[]): boolean {
  if (!/^\+\d{6,15}$/.test(number)) return false; // E.164 only: no SIP URIs, no short codes
  return patterns.some((p) => p.test(number));
}

export interface OutboundPolicyOptions {
  defaultAllowlist: string;
  callsPerMinute: number;
  redisUrl: string;
  /** Read the organization's own allowlist and limit (migration 030); absent: defaults only. */
  pool?: pg.Pool | undefined;
}

interface OrgPolicy {
  patterns: RegExp[];
  perMinute: number;
}

export class OutboundPolicy {
  constructor(readonly options: OutboundPolicyOptions) {}

  static fromConfig(
    cfg: { OUTBOUND_ALLOWLIST: string; OUTBOUND_CALLS_PER_MINUTE: number; REDIS_URL: string },
    pool?: pg.Pool,
  ): OutboundPolicy {
    return new OutboundPolicy({
      defaultAllowlist: cfg.OUTBOUND_ALLOWLIST,
      callsPerMinute: cfg.OUTBOUND_CALLS_PER_MINUTE,
      redisUrl: cfg.REDIS_URL,
      pool,
    });
  }

  async #policyOf(organizationId: string): Promise<OrgPolicy> {
    const fallback = {
      patterns: parseAllowlist(this.options.defaultAllowlist),
      perMinute: this.options.callsPerMinute,
    };
    if (!this.options.pool) return fallback;
    const r = await this.options.pool
      .query<{ list: string[] | null; per_minute: number | null }>(
        'SELECT outbound_allowlist AS list, outbound_calls_per_minute AS per_minute FROM organizations WHERE id = $1',
        [organizationId],
      )
      .catch(() => ({ rows: [] as { list: string[] | null; per_minute: number | null }[] }));
    const row = r.rows[0];
    return {
      patterns: row?.list ? parseAllowlist(row.list) : fallback.patterns,
      perMinute: row?.per_minute ?? fallback.perMinute,
    };
  }

  /** Resolves when `number` may be dialled now (and counts the call); throws OutboundRefusedError. */
  async admit(number: string, organizationId: string = DEFAULT_ORGANIZATION_ID): Promise<void> {
    const policy = await this.#policyOf(organizationId);
    // The refusal names the rule, never the number: it is stored as the call's end reason.
    if (!isAllowed(number, policy.patterns)) {
      throw new OutboundRefusedError("outbound_refused: number not in the organization's outbound allowlist");
    }
    const minute = Math.floor(Date.now() / 60_000);
    const key = `va:outbound-rate:${organizationId}:${minute}`;
    const redis = new Redis(this.options.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
    try {
      await redis.connect();
      const [[, count]] = (await redis.multi().incr(key).expire(key, 120).exec()) as [
        [null, number],
        unknown,
      ];
      if (count > policy.perMinute) {
        throw new OutboundRefusedError(
          `outbound_refused: organization over its limit of ${policy.perMinute} outbound calls per minute`,
        );
      }
    } finally {
      redis.disconnect();
    }
  }
}
