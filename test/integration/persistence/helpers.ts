import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { flowPackages } from '../../../agents/index.js';
import { DEV_PII_ENCRYPTION_KEY, DEV_PII_HASH_KEY } from '../../../src/config/config.js';
import { type CallEvent, makeEvent, type PayloadOf, type RecordEvent } from '../../../src/events/index.js';
import { dropDatabase } from '../../../src/persistence/db.js';
import { type MigrateOptions, migrateUp } from '../../../src/persistence/migrate.js';
import { Persister, type PersisterOptions } from '../../../src/persistence/persister.js';
import { PiiCipher } from '../../../src/persistence/pii.js';
import { recordWritersOf } from '../../../src/persistence/record-writers.js';
import { sleep } from '../../../src/util/async.js';

/**
 * Shared fixtures for the persistence suite. Everything runs against the real Postgres and
 * Redis (a missing service fails the test); each file gets its own database and queue names.
 */

export const BASE_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const pii = new PiiCipher(DEV_PII_ENCRYPTION_KEY, DEV_PII_HASH_KEY);

export function randomName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

export function databaseUrl(name: string, base = BASE_DATABASE_URL): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestDatabase {
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** Creates va_test_<random> through the migration runner; drop() removes it. */
export async function createTestDatabase(options: MigrateOptions = {}): Promise<TestDatabase> {
  const url = databaseUrl(randomName('va_test'));
  await migrateUp(url, options);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  return {
    url,
    pool,
    drop: async () => {
      await pool.end();
      await dropDatabase(url);
    },
  };
}

export { dropDatabase };

export interface PersisterSuite {
  readonly queueName: string;
  /** Set in beforeAll. */
  db: TestDatabase;
  /** Set in beforeAll; not started (tests call processBatch, or start() themselves). */
  persister: Persister;
}

/**
 * A scratch database and a Persister on a fresh queue for the enclosing describe block:
 * created in beforeAll; closed, its queue keys removed and the database dropped in afterAll.
 */
export function persisterSuite(
  queuePrefix: string,
  options: Partial<PersisterOptions> = {},
  database: MigrateOptions = {},
): PersisterSuite {
  const suite = { queueName: randomName(queuePrefix) } as PersisterSuite;
  beforeAll(async () => {
    suite.db = await createTestDatabase(database);
    suite.persister = new Persister({ ...persisterBase(suite.db.url, suite.queueName), ...options });
  });
  afterAll(async () => {
    await suite.persister?.close();
    await obliterateQueues(suite.queueName);
    await suite.db?.drop();
  });
  return suite;
}

/** Removes every Redis key of the event queue, its DLQ and its maintenance queue. */
export async function obliterateQueues(queueName: string, redisUrl = REDIS_URL): Promise<void> {
  // Plain key deletion rather than Queue.obliterate: constructing a Queue writes its meta key,
  // and late writers (closing workers) can leave a few keys behind an obliterate.
  const redis = new Redis(redisUrl);
  try {
    const keys = await redis.keys(`bull:${queueName}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

/**
 * A TCP proxy we can cut and restore, standing in for a database or Redis outage without
 * touching the real servers. stop() closes the listener and kills live connections.
 */
export class TcpProxy {
  #server: net.Server | undefined;
  readonly #sockets = new Set<net.Socket>();
  port = 0;

  constructor(
    readonly targetHost: string,
    readonly targetPort: number,
  ) {}

  async start(): Promise<number> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.#server = server;
    return this.port;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  urlFor(raw: string): string {
    const url = new URL(raw);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }
}

export async function waitFor(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

const rnd = (n: number) => Math.floor(Math.random() * n);
const pad = (n: number) => String(n).padStart(2, '0');

/** A call.started event of an inbound test call, at `at`, with `extra` payload fields. */
export function callStarted(
  callId: string,
  at: Date,
  extra: Partial<PayloadOf<'call.started'>> = {},
): CallEvent {
  const payload = {
    room_name: `call-${callId.slice(0, 8)}`,
    session_id: `sess-${callId}`,
    flow: 'appointment-booking',
    worker_id: 'worker-test',
    direction: 'inbound' as const,
    ...extra,
  };
  return makeEvent('call.started', callId, payload, { occurredAt: at });
}

/** A plausible whole call: one event of every type, in emission order. */
export function sampleCall(callId: string = randomUUID(), at = Date.now()): CallEvent[] {
  let t = at;
  const next = () => {
    t += 500;
    return new Date(t);
  };
  const turnId = randomUUID();
  return [
    callStarted(callId, next(), {
      sip: { call_id: `sip-${callId}`, caller_number: '+1 (555) 010-2000', trunk_number: '+15550100000' },
      metadata: { test: true },
    }),
    makeEvent(
      'call.lifecycle',
      callId,
      { event_type: 'answered', source: 'telephony' },
      { occurredAt: next() },
    ),
    makeEvent(
      'turn',
      callId,
      {
        turn_id: turnId,
        turn_number: 1,
        role: 'user',
        text: 'I need an appointment tomorrow at 3',
        state_at_turn: 'greeting',
      },
      { occurredAt: next() },
    ),
    makeEvent(
      'transition',
      callId,
      {
        transition_id: randomUUID(),
        from_state: 'greeting',
        to_state: 'collect_date',
        trigger_type: 'user_input',
        latency_ms: 12,
      },
      { occurredAt: next() },
    ),
    makeEvent(
      'slot',
      callId,
      {
        slot_id: randomUUID(),
        turn_id: turnId,
        slot_name: 'date',
        slot_value: '2030-01-15',
        confidence: 0.92,
        method: 'regex',
        validated: true,
      },
      { occurredAt: next() },
    ),
    makeEvent(
      'metric',
      callId,
      { name: 'voice_to_voice_ms', value: 812.5, tags: { turn: 1 } },
      { occurredAt: next() },
    ),
    makeEvent(
      'error',
      callId,
      { error_id: randomUUID(), error_type: 'tts_error', message: 'fallback voice used', severity: 'low' },
      { occurredAt: next() },
    ),
    makeEvent(
      'record',
      callId,
      {
        record_id: randomUUID(),
        flow: 'appointment-booking',
        type: 'appointment',
        data: {
          user_name: 'Ada',
          // Random day and minute (~30 M slots) so sample calls never double-book each other.
          appointment_date: `${2031 + rnd(69)}-${pad(1 + rnd(12))}-${pad(1 + rnd(28))}`,
          appointment_time: `${pad(rnd(24))}:${pad(rnd(60))}`,
          status: 'confirmed',
          confirmation_code: `C-${randomBytes(6).toString('hex')}`,
        },
      },
      { occurredAt: next() },
    ),
    makeEvent(
      'record',
      callId,
      {
        record_id: randomUUID(),
        flow: 'appointment-booking',
        type: 'feedback',
        data: { rating: 5, feedback_type: 'positive' },
      },
      { occurredAt: next() },
    ),
    makeEvent(
      'call.ended',
      callId,
      {
        status: 'COMPLETED',
        final_state: 'terminal',
        ended_at: new Date(t + 500).toISOString(),
        duration_seconds: 5,
      },
      { occurredAt: next() },
    ),
  ];
}

/** Row counts per event-fed table for the given calls. */
export async function countRows(pool: pg.Pool, callIds: string[]): Promise<Record<string, number>> {
  const tables: [string, string][] = [
    ['conversations', 'id'],
    ['conversation_turns', 'conversation_id'],
    ['state_transitions', 'conversation_id'],
    ['extracted_slots', 'conversation_id'],
    ['system_metrics', 'conversation_id'],
    ['error_logs', 'conversation_id'],
    ['appointments', 'conversation_id'],
    ['user_feedback', 'conversation_id'],
    ['call_events', 'conversation_id'],
  ];
  const counts: Record<string, number> = {};
  for (const [table, col] of tables) {
    const r = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${table} WHERE ${col} = ANY($1::uuid[])`,
      [callIds],
    );
    counts[table] = Number(r.rows[0]?.n);
  }
  return counts;
}

/** Waits until every sample call has its one row in every table (see sampleCall). */
export async function waitForCalls(pool: pg.Pool, callIds: string[], timeoutMs = 30_000): Promise<void> {
  let last: Record<string, number> = {};
  try {
    await waitFor(
      async () => {
        last = await countRows(pool, callIds);
        return Object.values(last).every((n) => n === callIds.length);
      },
      `${callIds.length} calls to be persisted`,
      timeoutMs,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; row counts: ${JSON.stringify(last)}`);
  }
}

/** The booking flow's record writers, as the persister CLI registers them. */
export const flowRecordWriters = recordWritersOf(flowPackages);

/** The sample call's appointment record event. */
export function appointmentEventOf(events: CallEvent[]): RecordEvent {
  const e = events.find((x): x is RecordEvent => x.type === 'record' && x.payload.type === 'appointment');
  if (!e) throw new Error('the sample call has no appointment record');
  return e;
}

/** The options every persister of this suite shares: the flows' record writers, the real Redis. */
export function persisterBase(databaseUrl: string, queueName: string) {
  return { records: flowRecordWriters, databaseUrl, redisUrl: REDIS_URL, queueName, pii };
}
