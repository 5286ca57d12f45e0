import type { Command } from 'commander';
import type pg from 'pg';
import type { z } from 'zod';
import type { DomainLanguage } from './language.js';
import type { Flow } from './types.js';

/**
 * The flow package contract: everything a host (worker, simulator, demo, script runner,
 * persister, `migrate up`) needs from a flow, in one definition exported by
 * `agents/<name>/index.ts`. Hosts ask the package; nothing under src/ names a flow.
 */

/** What a package's resources may use when a process opens them. */
export interface FlowResourceContext {
  databaseUrl: string;
  /** Database connections the process may hold for this flow (shared executor: more calls). */
  maxConnections: number;
  /** Reports a background failure (a dropped pooled connection) without ending calls. */
  warn(message: string, error: unknown): void;
  /** Seals and opens personal data a store keeps (the deployment's PII key ring). */
  personalData?: { sealText(text: string): string; openText(text: string): string };
}

/** Stores, pools, clients: opened once per worker process, closed on its shutdown. */
export interface FlowResources<R> {
  open(ctx: FlowResourceContext): R;
  close(resources: R): Promise<void> | void;
}

/** What createFlow gets for one call. */
export interface FlowCreateContext<S, R> {
  /** The route's settings, already validated by the package's settings schema. */
  settings: S;
  resources: R;
  /** The deployment's default zone, used when the settings name none. */
  defaultTimeZone?: string;
  /** The call's organization (its route's, or the dispatch's); stores scope their queries to it. */
  organizationId?: string;
}

/** One row handed to a record writer: the record event's ids plus the record's data. */
export interface RecordRow<T> {
  /** record_id: the row id; the same id again is a later version of the row. */
  id: string;
  /** The event's organization (the call's conversation decides when absent). */
  organization_id?: string;
  call_id: string;
  occurred_at: string;
  data: T;
}

/**
 * A record type a flow's steps may emit: `schema` validates `data` (an invalid record goes to
 * the dead-letter queue with the reason), `write` stores a batch of rows inside the
 * persister's transaction and must be idempotent by row id.
 */
export interface FlowRecordType<T = Record<string, unknown>> {
  schema: z.ZodType<T>;
  write(client: pg.ClientBase, rows: RecordRow<T>[], context: RecordWriteContext): Promise<void>;
}

/** What the persister lends a record writer: personal data is sealed with the deployment's key ring. */
export interface RecordWriteContext {
  /** Encrypts a personal value (a phone number, an address) for storage; idempotent on sealed text. */
  seal(value: string): string;
}

/** Caller scripts the package brings, and how their flow-defined expectations are checked. */
export interface FlowScripts<R> {
  /** Directory of the package's *.yaml caller scripts. */
  dir: string;
  /** Schema of a script's `setup:` (existing data the call meets). */
  setup: z.ZodType<unknown>;
  /** Resources for a scripted call without a database, seeded from the script's `setup:`. */
  offline(setup: unknown): R;
  /** Schema of the flow's own expectations (`expect.flow:` in a script). */
  expectations: z.ZodType<unknown>;
  /** Failures of the flow's expectations against what the call recorded (empty: success). */
  check(expected: unknown, records: readonly { type: string; data: Record<string, unknown> }[]): string[];
}

/** What the demo needs: a script to play, and what to print from the flow's tables. */
export interface FlowDemo {
  /** The caller script the demo plays (absolute path). */
  script: string;
  /** Frees what an earlier demo run left behind so this one completes too. */
  prepare?(db: pg.Pool): Promise<string[]>;
  /** Lines describing the call's rows in the flow's tables. */
  report?(db: pg.Pool, callId: string): Promise<string[]>;
  /** The flow's tables the demo counts rows of. */
  tables?: readonly string[];
}

export interface FlowPackage<S = unknown, R = unknown> {
  /** Lowercase words joined by '-': the FLOW value, the route's `flow`. */
  name: string;
  description: string;
  /** What a route may configure; `{}` must parse (the development default). */
  settings: z.ZodType<S>;
  resources: FlowResources<R>;
  createFlow(ctx: FlowCreateContext<S, R>): Flow;
  /** Directory of the package's NNN_*.sql migrations, applied after the core ones. */
  migrations?: string;
  /** Record types by name (what StepResult.records may name). */
  // biome-ignore lint/suspicious/noExplicitAny: each record type has its own data shape.
  records?: Record<string, FlowRecordType<any>>;
  /**
   * The language a call with these settings speaks (BCP-47, default en-US): the offline voice
   * follows it, and a route whose language the configured recognizer cannot hear is refused.
   */
  spokenLanguage?(settings: S): string;
  /** The offline recognizer's language for a flow built by this package (default: derived). */
  vocabulary?(flow: Flow): DomainLanguage;
  scripts?: FlowScripts<R>;
  demo?: FlowDemo;
  /**
   * Tables archived with their conversation by retention (rows by conversation_id, kept as
   * JSON under `key`); others are deleted with it (ON DELETE CASCADE) or kept.
   */
  archive?: readonly { key: string; table: string; orderBy: string }[];
  /**
   * The package's tables that hold personal data, for `privacy export|erase` and `pii rotate`:
   * how a person's rows are found (their calls, a sealed number, a number's keyed hash), which
   * columns are sealed, and whether erasure deletes a row or blanks its personal columns.
   */
  personalData?: readonly FlowPersonalTable[];
  /**
   * The package's retention rules, run daily per organization (row-level security applies)
   * beside the platform's: each statement gets the run's time as $1 and returns its row count.
   */
  retention?: readonly FlowRetentionRule[];
  /**
   * The package's own CLI commands (`voice-agent <command> …`), added beside the platform's.
   * Throw UsageError (src/util/usage-error.ts) for wrong use: it prints one line, no stack.
   */
  commands?(program: Command): void;
}

/** One table of a flow holding personal data (its rows must have a UUID `id`). */
export interface FlowPersonalTable {
  table: string;
  /** Rows of the person's calls (a conversation id column). */
  conversationColumn?: string;
  /** A sealed text column that may hold the person's phone number. */
  contactColumn?: string;
  /** A keyed-hash column of a phone number (PiiKeyRing.hash). */
  hashColumn?: string;
  /** Columns sealed with the PII key ring, re-sealed by `pii rotate`. */
  sealed?: readonly { column: string; kind: 'text' | 'bytea' | 'jsonb' }[];
  /** Erasure deletes the person's rows, or blanks these columns (the business keeps the row). */
  erase: 'delete' | { anonymize: readonly string[] };
}

/** One retention rule of a flow: `statement` ($1 = now) deletes or anonymizes what has expired. */
export interface FlowRetentionRule {
  /** What the report calls it ("failed survey calls after 7 days"). */
  name: string;
  statement: string;
}

// biome-ignore lint/suspicious/noExplicitAny: settings and resources are erased at the registry.
export type AnyFlowPackage = FlowPackage<any, any>;

const NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/** Checks a package definition once, when the registry loads it. */
export function defineFlowPackage<S, R>(pkg: FlowPackage<S, R>): FlowPackage<S, R> {
  if (!NAME.test(pkg.name)) throw new Error(`flow package name "${pkg.name}" must be lowercase-with-dashes`);
  for (const type of Object.keys(pkg.records ?? {})) {
    if (!NAME.test(type.replace(/_/g, '-')))
      throw new Error(`${pkg.name}: record type "${type}" is not a name`);
  }
  return Object.freeze({ ...pkg });
}

/** Validates a route's settings with the package's schema: a readable reason, or the value. */
export function parseFlowSettings<S>(
  pkg: FlowPackage<S, unknown>,
  raw: unknown,
): { ok: true; settings: S } | { ok: false; reason: string } {
  const parsed = pkg.settings.safeParse(raw ?? {});
  if (parsed.success) return { ok: true, settings: parsed.data };
  const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(settings)'}: ${i.message}`).join('; ');
  return { ok: false, reason: `settings for flow ${pkg.name} rejected: ${why}` };
}

/** Languages the offline recognizer (pocketsphinx with its US English model) can hear. */
const LOCAL_RECOGNIZER_LANGUAGES = /^en(-|$)/i;

/**
 * Why calls of `pkg` with `settings` cannot be heard by `recognizer` (the resolved PROVIDER),
 * or null: pocketsphinx's model is US English, so any other language needs openai.
 */
export function recognizerProblem<S>(
  pkg: FlowPackage<S, unknown>,
  settings: S,
  recognizer: string | undefined,
): string | null {
  const language = pkg.spokenLanguage?.(settings) ?? 'en-US';
  if (recognizer !== 'local' || LOCAL_RECOGNIZER_LANGUAGES.test(language)) return null;
  return `flow ${pkg.name} speaks ${language} here, which the local recognizer (pocketsphinx, US English) cannot hear: set PROVIDER=openai with OPENAI_API_KEY for ${language} calls`;
}
