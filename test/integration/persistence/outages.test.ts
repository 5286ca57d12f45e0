import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { batchJobId } from '../../../src/events/batch.js';
import type { CallEvent } from '../../../src/events/index.js';
import { EventProducer } from '../../../src/events/producer.js';
import { persistFailures } from '../../../src/observability/metrics.js';
import { Persister } from '../../../src/persistence/persister.js';
import { sleep } from '../../../src/util/async.js';
import {
  countRows,
  createTestDatabase,
  obliterateQueues,
  persisterBase,
  pii,
  REDIS_URL,
  randomName,
  sampleCall,
  TcpProxy,
  type TestDatabase,
  waitFor,
  waitForCalls,
} from './helpers.js';

const TABLES_PER_CALL = 9;

async function failureCount(): Promise<number> {
  return (await persistFailures.get()).values[0]?.value ?? 0;
}

/** Every event of every call landed exactly once (each sample call has one row per table). */
async function expectExactlyOnce(db: TestDatabase, calls: string[]): Promise<void> {
  const counts = await countRows(db.pool, calls);
  expect(Object.keys(counts)).toHaveLength(TABLES_PER_CALL);
  for (const [table, n] of Object.entries(counts)) expect({ table, n }).toEqual({ table, n: calls.length });
}

describe('outages', () => {
  let db: TestDatabase;
  const journalRoot = `.local/test-journal/${randomName('outage')}`;
  const cleanups: (() => Promise<void>)[] = [];
  const closeAfterTest = (
    producer: EventProducer,
    persister: Persister,
    proxy: TcpProxy,
    queueName: string,
  ) =>
    cleanups.push(async () => {
      await producer.close();
      await persister.close();
      await proxy.stop();
      await obliterateQueues(queueName);
    });

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  afterAll(async () => {
    await db?.drop();
    rmSync(journalRoot, { recursive: true, force: true });
  });

  it('Postgres down mid-stream, then back: every event lands exactly once', async () => {
    const queueName = randomName('test-pg-outage');
    const dbUrl = new URL(db.url);
    const proxy = new TcpProxy('127.0.0.1', Number(dbUrl.port || 5432));
    await proxy.start();
    const persister = new Persister({
      ...persisterBase(proxy.urlFor(db.url), queueName),
      concurrency: 2,
      retryBaseMs: 100,
      retryMaxMs: 500,
    });
    const producer = new EventProducer({
      redisUrl: REDIS_URL,
      queueName,
      journalDir: journalRoot,
      batchMs: 20,
    });
    closeAfterTest(producer, persister, proxy, queueName);
    await persister.start();

    const calls: string[] = [];
    const emitCalls = (n: number) => {
      for (let i = 0; i < n; i++) {
        const id = randomUUID();
        calls.push(id);
        for (const e of sampleCall(id)) producer.emit(e);
      }
    };
    emitCalls(10);
    await producer.flush();
    await waitForCalls(db.pool, calls);

    const failuresBefore = await failureCount();
    await proxy.stop(); // database unreachable; live connections cut
    emitCalls(20);
    await producer.flush();
    // Give the persister time to fail and schedule retries while the database is away.
    await sleep(1500);
    expect((await countRows(db.pool, calls)).call_events).toBe(10);
    expect(await failureCount()).toBeGreaterThan(failuresBefore); // batches failed, will retry

    await proxy.start(); // same port: the persister's DATABASE_URL is valid again
    emitCalls(10);
    await producer.flush();
    await waitForCalls(db.pool, calls);
    await expectExactlyOnce(db, calls);
  });

  it('Redis down: events go to the journal and are replayed exactly once when it returns', async () => {
    const queueName = randomName('test-redis-outage');
    const redisUrl = new URL(REDIS_URL);
    const proxy = new TcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
    await proxy.start();
    const journalDir = `${journalRoot}/redis`;
    const producer = new EventProducer({
      redisUrl: proxy.urlFor(REDIS_URL),
      queueName,
      journalDir,
      batchMs: 20,
      batchMax: 25,
      addTimeoutMs: 500,
      probeMs: 100,
      journalCipher: pii,
    });
    // The persister talks to Redis directly: only the producer's side is cut.
    const persister = new Persister({
      ...persisterBase(db.url, queueName),
      concurrency: 2,
    });
    closeAfterTest(producer, persister, proxy, queueName);
    await persister.start();

    const calls: string[] = [];
    const emitCalls = (n: number): CallEvent[] => {
      const events: CallEvent[] = [];
      for (let i = 0; i < n; i++) {
        const id = randomUUID();
        calls.push(id);
        events.push(...sampleCall(id));
      }
      for (const e of events) producer.emit(e);
      return events;
    };

    emitCalls(5);
    await producer.flush();
    expect(producer.stats().mode).toBe('direct');

    await proxy.stop();
    emitCalls(15);
    await producer.flush(); // resolves: the events are safe in the journal
    const stats = producer.stats();
    expect(stats.mode).toBe('journal');
    expect(stats.journalEvents).toBeGreaterThanOrEqual(150 - 25); // one batch may have raced into Redis
    expect(stats.dropped).toBe(0);
    const journalFile = readdirJsonl(journalDir);
    const journal = readFileSync(journalFile, 'utf8');
    expect(journal.trim().split('\n').length).toBeGreaterThan(0);
    // Sealed: sample calls carry a caller number, which must not sit on disk in clear.
    expect(journal).not.toContain('0102000');
    expect(journal).not.toContain('call.started');

    await proxy.start();
    emitCalls(5); // emitted while replay is pending: must land after the journal, not be lost
    await waitFor(() => producer.stats().mode === 'direct' && producer.stats().journalEvents === 0, 'replay');
    await producer.flush();
    await waitForCalls(db.pool, calls);
    await expectExactlyOnce(db, calls);
    expect(readFileSync(journalFile, 'utf8')).toBe('');
  });

  it('replays a journal left behind by a producer that died during an outage', async () => {
    const queueName = randomName('test-orphan');
    const journalDir = `${journalRoot}/orphan`;
    mkdirSync(journalDir, { recursive: true });
    const calls = [randomUUID(), randomUUID()];
    const [a, b] = calls.map((id) => sampleCall(id));
    // A journal nobody holds the lock of (its producer is gone), whatever its name says.
    const orphan = `${journalDir}/events-${hostname().replace(/[^A-Za-z0-9_.-]/g, '_')}-2147483646-dead.jsonl`;
    const lines = [a!, b!].map((events) => JSON.stringify({ jobId: batchJobId(events), events }));
    writeFileSync(orphan, `${lines.join('\n')}\n{"jobId": "torn-wri`); // last line torn by the crash
    const persister = new Persister({
      ...persisterBase(db.url, queueName),
    });
    const producer = new EventProducer({ redisUrl: REDIS_URL, queueName, journalDir, batchMs: 20 });
    cleanups.push(async () => {
      await producer.close();
      await persister.close();
      await obliterateQueues(queueName);
    });
    await persister.start();
    await waitForCalls(db.pool, calls);
    await expectExactlyOnce(db, calls);
    await waitFor(() => !existsSync(orphan), 'orphan journal removed');
    // The torn line is kept, not deleted: it sits in a quarantine file beside the journal.
    const quarantined = readdirSync(journalDir).filter((n) => /^quarantine-.*\.jsonl$/.test(n));
    expect(quarantined).toHaveLength(1);
    expect(readFileSync(`${journalDir}/${quarantined[0]}`, 'utf8')).toBe('{"jobId": "torn-wri\n');
  });

  it('drops only above EVENT_BUFFER_MAX, and counts what it drops', async () => {
    const queueName = randomName('test-bound');
    // Nothing listens on port 1: Redis is "down" from the start, and the journal directory is
    // a file, so journaling fails too: events can only pile up in memory.
    const blocker = `${journalRoot}/not-a-dir`;
    mkdirSync(journalRoot, { recursive: true });
    writeFileSync(blocker, 'x');
    const producer = new EventProducer({
      redisUrl: 'redis://127.0.0.1:1',
      queueName,
      journalDir: `${blocker}/journal`,
      batchMs: 10_000,
      bufferMax: 50,
      addTimeoutMs: 200,
    });
    const events = sampleCall().concat(...Array.from({ length: 6 }, () => sampleCall()));
    for (const e of events) producer.emit(e); // 70 events
    expect(producer.stats().dropped).toBe(20);
    await expect(producer.flush()).rejects.toThrow();
    expect(producer.stats().buffered).toBe(50); // nothing under the bound was lost
    // Closing with events nobody took reports them as dropped too, loudly.
    await expect(producer.close()).rejects.toThrow(/ENOTDIR/);
    expect(producer.stats().dropped).toBe(70);
  });
});

function readdirJsonl(dir: string): string {
  const name = readdirSync(dir).find((n) => n.endsWith('.jsonl'));
  if (!name) throw new Error(`no journal in ${dir}`);
  return `${dir}/${name}`;
}
