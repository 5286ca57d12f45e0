import type pg from 'pg';
import type { FlowRetentionRule } from '../conversation/flow-package.js';
import { quoteIdent } from './db.js';
import { organizationIds, withOrganization } from './tenant-scope.js';

/**
 * Data retention (seed 001: keep three months live, archive older; seed 003: purge metrics
 * after 30 days, drop personal data that is no longer needed):
 * - conversations older than retentionDays move to conversations_archive together with their
 *   turns, transitions, slots, ratings, errors and lifecycle events (as JSON in `details`),
 *   without the encrypted caller number;
 * - system_metrics older than metricsRetentionDays are dropped, future partitions created;
 * - archived conversations older than archiveRetentionDays and error logs older than
 *   retentionDays are deleted;
 * - telephony provider logs older than telephonyLogRetentionDays (30) are deleted (seed 003);
 * - each flow's own rules run (FlowPackage.retention), counted by name.
 */

export interface RetentionPolicy {
  retentionDays: number;
  metricsRetentionDays: number;
  archiveRetentionDays: number;
  /** Conversations archived per transaction (keeps locks and WAL bursts small). */
  batchSize?: number;
  /** The flows' tables archived with their conversation (FlowPackage.archive), under `key`. */
  flowTables?: readonly ArchivedTable[];
  /** Default 30 days (seed 003). */
  telephonyLogRetentionDays?: number;
  /** The flows' own rules (FlowPackage.retention). */
  flowRules?: readonly FlowRetentionRule[];
}

/** A table whose rows (by conversation_id) go into the archive's `details[key]`. */
export interface ArchivedTable {
  key: string;
  table: string;
  /** ORDER BY of the rows, on alias t (e.g. 't.created_at'). */
  orderBy: string;
}

export interface RetentionReport {
  archived: number;
  archivePurged: number;
  errorLogsPurged: number;
  telephonyLogsPurged: number;
  /** Rows each flow rule deleted or changed, by rule name. */
  flowRules: Record<string, number>;
  metricPartitionsDropped: number;
  metricPartitionsCreated: number;
}

const DAY_MS = 86_400_000;

const pgString = (s: string) => `'${s.replace(/'/g, "''")}'`;

async function archiveStatement(pool: pg.Pool, flowTables: readonly ArchivedTable[]): Promise<string> {
  // Column list read from the live table, so a later migration that adds a column to both
  // tables needs no change here (and one that forgets the archive fails loudly).
  const { rows } = await pool.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = 'conversations' ORDER BY ordinal_position`,
  );
  const cols = rows.map((r) => r.column_name);
  const select = cols.map((c) => (c === 'caller_number_encrypted' ? 'NULL' : `c.${quoteIdent(c)}`));
  const children = (table: string, order: string) =>
    `(SELECT COALESCE(jsonb_agg(to_jsonb(t) ORDER BY ${order}), '[]'::jsonb) FROM ${table} t WHERE t.conversation_id = c.id)`;
  return `
    WITH doomed AS (
      SELECT id FROM conversations WHERE started_at < $1 ORDER BY started_at LIMIT $2 FOR UPDATE SKIP LOCKED
    ), archived AS (
      INSERT INTO conversations_archive (${cols.map(quoteIdent).join(', ')}, archived_at, details)
      SELECT ${select.join(', ')}, NOW(), jsonb_build_object(
        'turns', ${children('conversation_turns', 't.turn_number, t.created_at')},
        'transitions', ${children('state_transitions', 't.transition_time')},
        'slots', ${children('extracted_slots', 't.created_at')},
${flowTables
  .map(
    (f) => `        ${pgString(f.key)}, ${children(quoteIdent(f.table), f.orderBy)},
`,
  )
  .join('')}        'errors', ${children('error_logs', 't.created_at')},
        'call_events', ${children('call_events', 't.occurred_at')})
      FROM conversations c JOIN doomed d ON d.id = c.id
      ON CONFLICT DO NOTHING
      RETURNING id
    )
    DELETE FROM conversations WHERE id IN (SELECT id FROM archived)`;
}

export async function runRetention(
  pool: pg.Pool,
  policy: RetentionPolicy,
  now: Date = new Date(),
): Promise<RetentionReport> {
  const cutoff = new Date(now.getTime() - policy.retentionDays * DAY_MS);
  const batchSize = policy.batchSize ?? 500;
  const report: RetentionReport = {
    archived: 0,
    archivePurged: 0,
    errorLogsPurged: 0,
    telephonyLogsPurged: 0,
    flowRules: Object.fromEntries((policy.flowRules ?? []).map((rule) => [rule.name, 0])),
    metricPartitionsDropped: 0,
    metricPartitionsCreated: 0,
  };

  const archive = await archiveStatement(pool, policy.flowTables ?? []);
  const archiveCutoff = new Date(now.getTime() - policy.archiveRetentionDays * DAY_MS);
  const metricsCutoff = new Date(now.getTime() - policy.metricsRetentionDays * DAY_MS);
  const telephonyCutoff = new Date(now.getTime() - (policy.telephonyLogRetentionDays ?? 30) * DAY_MS);
  // Row-level security: each organization's rows in transactions scoped to it.
  for (const organizationId of await organizationIds(pool)) {
    for (;;) {
      // Deleting a conversation cascades to its children, which were copied just before in
      // the same statement; a conflict (already archived) deletes nothing.
      const moved = await withOrganization(pool, organizationId, (c) =>
        c.query(archive, [cutoff, batchSize]),
      );
      report.archived += moved.rowCount ?? 0;
      if ((moved.rowCount ?? 0) < batchSize) break;
    }
    await withOrganization(pool, organizationId, async (c) => {
      const purged = await c.query('DELETE FROM conversations_archive WHERE started_at < $1', [
        archiveCutoff,
      ]);
      report.archivePurged += purged.rowCount ?? 0;
      const errors = await c.query('DELETE FROM error_logs WHERE created_at < $1', [cutoff]);
      report.errorLogsPurged += errors.rowCount ?? 0;
      const telephony = await c.query('DELETE FROM telephony_provider_logs WHERE occurred_at < $1', [
        telephonyCutoff,
      ]);
      report.telephonyLogsPurged += telephony.rowCount ?? 0;
      // Stragglers in partitions purge_system_metrics keeps (default, the straddling month).
      await c.query('DELETE FROM system_metrics WHERE time < $1', [metricsCutoff]);
      for (const rule of policy.flowRules ?? []) {
        const changed = await c.query(rule.statement, [now]);
        report.flowRules[rule.name] = (report.flowRules[rule.name] ?? 0) + (changed.rowCount ?? 0);
      }
    });
  }

  const dropped = await pool.query<{ n: number }>('SELECT purge_system_metrics($1) AS n', [metricsCutoff]);
  report.metricPartitionsDropped = Number(dropped.rows[0]?.n ?? 0);
  const created = await pool.query<{ n: number }>('SELECT ensure_metric_partitions(3) AS n');
  report.metricPartitionsCreated = Number(created.rows[0]?.n ?? 0);
  return report;
}

/** The deployment's policy (RETENTION_DAYS and friends) with every flow package's part. */
export function retentionPolicy(
  cfg: {
    RETENTION_DAYS: number;
    METRICS_RETENTION_DAYS: number;
    ARCHIVE_RETENTION_DAYS: number;
    TELEPHONY_LOG_RETENTION_DAYS: number;
  },
  packages: readonly { archive?: readonly ArchivedTable[]; retention?: readonly FlowRetentionRule[] }[],
): RetentionPolicy {
  return {
    retentionDays: cfg.RETENTION_DAYS,
    metricsRetentionDays: cfg.METRICS_RETENTION_DAYS,
    archiveRetentionDays: cfg.ARCHIVE_RETENTION_DAYS,
    telephonyLogRetentionDays: cfg.TELEPHONY_LOG_RETENTION_DAYS,
    flowTables: packages.flatMap((p) => p.archive ?? []),
    flowRules: packages.flatMap((p) => p.retention ?? []),
  };
}
