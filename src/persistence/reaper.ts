import type pg from 'pg';
import type { Logger } from '../observability/logger.js';
import { callsReaped, recordError } from '../observability/metrics.js';
import { organizationIds, withOrganization } from './tenant-scope.js';

/**
 * Crash reaper: a call whose worker died (SIGKILL, OOM, lost host) never sends call.ended, so
 * its conversation would stay ACTIVE forever. Workers send a heartbeat per call every few
 * seconds (src/events/heartbeat.ts); an ACTIVE conversation whose last_heartbeat_at is older
 * than the threshold becomes INTERRUPTED, ended at its last heartbeat, with a call_events row
 * (`timeout`, source `system`) saying why.
 *
 * Exactly once, however many reapers run: one statement selects stale rows FOR NO KEY UPDATE
 * SKIP LOCKED (a row another reaper, or a heartbeat write, holds is skipped, not waited for)
 * and updates only rows still ACTIVE; the call_events id is derived from the call id, so even
 * a second transition could not log twice.
 *
 * A real call.ended that arrives later (the worker was alive but cut off) still finalizes the
 * row and overrides the verdict: the worker knew how the call ended, the reaper only guessed.
 * The `timeout` row stays as a record of the guess.
 *
 * Clocks: last_heartbeat_at is the worker's clock, the cutoff is the database's now(); the
 * threshold must exceed any skew between them.
 */

export const REAPED_REASON = 'heartbeat_lost';

export interface ReapOptions {
  /** A call is stale when its last heartbeat is older than this many seconds. */
  staleSeconds: number;
  /**
   * The oldest moment whose events may still be in the queue (oldestPendingEventAt): silence
   * is measured up to there rather than up to now, so a persister catching up on a backlog
   * never reaps calls whose heartbeats are still queued. Null or omitted: no backlog.
   */
  backlogSince?: Date | null;
  /** Rows per statement; the function loops until none is left. */
  batchSize?: number;
  /** Recorded in the call_events row, to tell reapers apart. */
  reaperId?: string;
}

export interface ReapedCall {
  id: string;
  organizationId: string;
  startedAt: Date;
  endedAt: Date;
  durationSeconds: number;
  finalState: string | null;
}

const REAP = `
WITH stale AS (
  SELECT id FROM conversations
  WHERE status = 'ACTIVE' AND ended_event_id IS NULL
    AND COALESCE(last_heartbeat_at, started_at)
      < LEAST(now(), COALESCE($1::timestamptz, now())) - make_interval(secs => $2::float8)
  ORDER BY COALESCE(last_heartbeat_at, started_at)
  LIMIT $3
  FOR NO KEY UPDATE SKIP LOCKED
), reaped AS (
  UPDATE conversations c SET
    status = 'INTERRUPTED',
    ended_at = COALESCE(c.last_heartbeat_at, c.started_at),
    duration_seconds = GREATEST(0,
      ROUND(EXTRACT(EPOCH FROM COALESCE(c.last_heartbeat_at, c.started_at) - c.started_at)))::int,
    end_reason = '${REAPED_REASON}',
    -- The flow state the call was in when contact was lost, as its transitions recorded it.
    final_state = COALESCE(c.final_state, (SELECT t.to_state FROM state_transitions t
      WHERE t.conversation_id = c.id ORDER BY t.transition_time DESC LIMIT 1))
  FROM stale s
  WHERE c.id = s.id AND c.status = 'ACTIVE' AND c.ended_event_id IS NULL
  RETURNING c.id, c.organization_id, c.started_at, c.ended_at, c.duration_seconds, c.final_state
), logged AS (
  INSERT INTO call_events (id, organization_id, conversation_id, event_type, event_data, source, occurred_at)
  SELECT md5(r.id::text || ':reaped')::uuid, r.organization_id, r.id, 'timeout',
    jsonb_build_object('reason', '${REAPED_REASON}', 'last_heartbeat_at', r.ended_at,
      'stale_seconds', $2::float8, 'reaper', $4::text),
    'system', now()
  FROM reaped r
  ON CONFLICT (id) DO NOTHING
)
SELECT id, organization_id, started_at, ended_at, duration_seconds, final_state FROM reaped`;

interface ReapRow {
  id: string;
  organization_id: string;
  started_at: Date;
  ended_at: Date;
  duration_seconds: number;
  final_state: string | null;
}

/**
 * Marks every stale ACTIVE call INTERRUPTED; returns the calls this run transitioned. Runs
 * once per organization, each in a transaction scoped to it (row-level security: the
 * persister's role sees one organization at a time).
 */
export async function reapStaleCalls(pool: pg.Pool, options: ReapOptions): Promise<ReapedCall[]> {
  if (!(options.staleSeconds > 0)) throw new RangeError('staleSeconds must be positive');
  const reaped: ReapedCall[] = [];
  for (const organizationId of await organizationIds(pool)) {
    reaped.push(...(await reapOrganization(pool, organizationId, options)));
  }
  return reaped;
}

async function reapOrganization(
  pool: pg.Pool,
  organizationId: string,
  options: ReapOptions,
): Promise<ReapedCall[]> {
  const batchSize = options.batchSize ?? 500;
  const reaped: ReapedCall[] = [];
  for (;;) {
    const { rows } = await withOrganization(pool, organizationId, (client) =>
      client.query<ReapRow>(REAP, [
        options.backlogSince ?? null,
        options.staleSeconds,
        batchSize,
        options.reaperId ?? 'reaper',
      ]),
    );
    for (const r of rows) {
      reaped.push({
        id: r.id,
        organizationId: r.organization_id,
        startedAt: r.started_at,
        endedAt: r.ended_at,
        durationSeconds: r.duration_seconds,
        finalState: r.final_state,
      });
    }
    if (rows.length < batchSize) return reaped;
  }
}

export interface CallReaperOptions {
  pool: pg.Pool;
  staleSeconds: number;
  intervalMs: number;
  /**
   * Where the event backlog starts (oldestPendingEventAt on the event queue). Throwing, e.g.
   * because Redis is unreachable, skips the run: heartbeats cannot arrive then either.
   */
  backlogSince?: () => Promise<Date | null>;
  reaperId?: string;
  logger?: Logger;
}

/** Runs reapStaleCalls every intervalMs (one run at a time) until stop(). */
export class CallReaper {
  readonly #opts: CallReaperOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<ReapedCall[]> | undefined;

  constructor(options: CallReaperOptions) {
    this.#opts = options;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.runOnce().catch(() => {}), this.#opts.intervalMs);
    this.#timer.unref();
  }

  /** One pass; concurrent callers share the pass in progress. */
  runOnce(): Promise<ReapedCall[]> {
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #run(): Promise<ReapedCall[]> {
    const log = this.#opts.logger;
    let backlogSince: Date | null = null;
    try {
      backlogSince = (await this.#opts.backlogSince?.()) ?? null;
    } catch (err) {
      log?.warn({ err: (err as Error).message }, 'reaper skipped: cannot see the event queue backlog');
      recordError('reaper_backlog_unknown');
      return [];
    }
    try {
      const calls = await reapStaleCalls(this.#opts.pool, {
        staleSeconds: this.#opts.staleSeconds,
        backlogSince,
        ...(this.#opts.reaperId ? { reaperId: this.#opts.reaperId } : {}),
      });
      if (calls.length > 0) {
        callsReaped.inc(calls.length);
        log?.warn(
          {
            count: calls.length,
            calls: calls.slice(0, 20).map((c) => c.id),
            staleSeconds: this.#opts.staleSeconds,
          },
          'calls without heartbeat marked INTERRUPTED',
        );
      }
      return calls;
    } catch (err) {
      recordError('reaper_failed');
      log?.error({ err: (err as Error).message }, 'reaper run failed');
      throw err;
    }
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => {});
  }
}
