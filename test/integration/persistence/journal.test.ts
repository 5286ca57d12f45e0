import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEV_PII_HASH_KEY } from '../../../src/config/config.js';
import { batchJobId } from '../../../src/events/batch.js';
import { tryLockFile } from '../../../src/events/file-lock.js';
import { encodeEntry } from '../../../src/events/journal-codec.js';
import { EventProducer } from '../../../src/events/producer.js';
import { eventJournalWriteFailing, eventJournalWriteFailures } from '../../../src/observability/metrics.js';
import { Persister } from '../../../src/persistence/persister.js';
import { PiiCipher } from '../../../src/persistence/pii.js';
import {
  countRows,
  createTestDatabase,
  obliterateQueues,
  persisterBase,
  pii,
  REDIS_URL,
  randomName,
  sampleCall,
  type TestDatabase,
  waitFor,
  waitForCalls,
} from './helpers.js';

/** A journal written under a key this process does not have (e.g. before a key rotation). */
const otherKey = new PiiCipher('aa'.repeat(32), DEV_PII_HASH_KEY);

describe('event journal', () => {
  let db: TestDatabase;
  const root = mkdtempSync(join(tmpdir(), 'journal-it-'));
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(root, { recursive: true, force: true });
  });

  async function persisterFor(queueName: string): Promise<Persister> {
    const persister = new Persister(persisterBase(db.url, queueName));
    cleanups.push(async () => {
      await persister.close();
      await obliterateQueues(queueName);
    });
    await persister.start();
    return persister;
  }

  it('adopts a journal only once its lock is free, whatever its name, on a periodic rescan', async () => {
    const queueName = randomName('test-adopt');
    const dir = join(root, 'adopt');
    mkdirSync(dir, { recursive: true });
    const call = randomUUID();
    const events = sampleCall(call);
    const path = join(dir, 'events-worker-1.jsonl');
    writeFileSync(path, `${encodeEntry({ jobId: batchJobId(events), events }, pii)}\n`);
    const held = await tryLockFile(`${path}.lock`); // a live producer still owns it
    await persisterFor(queueName);
    const producer = new EventProducer({
      redisUrl: REDIS_URL,
      queueName,
      journalDir: dir,
      batchMs: 20,
      rescanMs: 200,
      journalCipher: pii,
    });
    cleanups.push(() => producer.close());
    await new Promise((r) => setTimeout(r, 600));
    expect((await countRows(db.pool, [call])).call_events ?? 0).toBe(0);
    await held?.release(); // its producer is gone
    await waitForCalls(db.pool, [call]);
    await waitFor(() => !readdirSync(dir).includes('events-worker-1.jsonl'), 'adopted journal removed');
  });

  it('quarantines lines sealed with an unknown key and replays them once the key is there', async () => {
    const queueName = randomName('test-quarantine');
    const dir = join(root, 'quarantine');
    mkdirSync(dir, { recursive: true });
    const [readable, foreign] = [randomUUID(), randomUUID()].map((id) => sampleCall(id));
    const line = (events: typeof readable, cipher: PiiCipher) =>
      encodeEntry({ jobId: batchJobId(events!), events: events! }, cipher);
    writeFileSync(join(dir, 'events-old.jsonl'), `${line(readable, pii)}\n${line(foreign, otherKey)}\n`);
    await persisterFor(queueName);
    const first = new EventProducer({ redisUrl: REDIS_URL, queueName, journalDir: dir, journalCipher: pii });
    await waitForCalls(db.pool, [readable![0]!.call_id]);
    await waitFor(
      () => readdirSync(dir).some((n) => /^quarantine-old-.*\.jsonl$/.test(n)),
      'quarantine file',
    );
    await first.close();
    expect((await countRows(db.pool, [foreign![0]!.call_id])).call_events ?? 0).toBe(0);
    // The operator configures the other key: the next producer replays the quarantined line.
    const second = new EventProducer({
      redisUrl: REDIS_URL,
      queueName,
      journalDir: dir,
      journalCipher: otherKey,
    });
    cleanups.push(() => second.close());
    await waitForCalls(db.pool, [foreign![0]!.call_id]);
    await waitFor(
      () => !readdirSync(dir).some((n) => n.startsWith('quarantine-old-') && n.endsWith('.jsonl')),
      'quarantine emptied',
    );
  });

  it('a full disk keeps the batch in memory, raises the alert, and loses nothing once space returns', async () => {
    const queueName = randomName('test-enospc');
    const mnt = join(root, 'tmpfs');
    mkdirSync(mnt, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32k', 'tmpfs', mnt]);
    cleanups.push(async () => {
      execFileSync('umount', ['-l', mnt]);
    });
    const filler = join(mnt, 'filler');
    writeFileSync(filler, Buffer.alloc(30 * 1024)); // leaves ~2 KB
    const failuresBefore =
      (await eventJournalWriteFailures.get()).values.find((v) => v.labels.reason === 'enospc')?.value ?? 0;
    const producer = new EventProducer({
      redisUrl: 'redis://127.0.0.1:1', // Redis "down": everything must go to the journal
      queueName,
      journalDir: join(mnt, 'journal'),
      batchMs: 20,
      addTimeoutMs: 100,
      journalCipher: pii,
    });
    const calls = Array.from({ length: 5 }, () => randomUUID());
    const emitted = calls.flatMap((id) => sampleCall(id));
    for (const e of emitted) producer.emit(e);
    await expect(producer.flush()).rejects.toThrow(/ENOSPC|short write/);
    const failures =
      (await eventJournalWriteFailures.get()).values.find((v) => v.labels.reason === 'enospc')?.value ?? 0;
    expect(failures).toBeGreaterThan(failuresBefore);
    expect((await eventJournalWriteFailing.get()).values[0]?.value).toBe(1);
    expect(producer.stats().dropped).toBe(0);
    expect(producer.stats().buffered + producer.stats().inFlight).toBeGreaterThan(0);
    rmSync(filler); // space comes back: the retries succeed without anyone re-emitting
    await producer.flush();
    expect(producer.stats().journalFailing).toBe(false);
    expect(producer.stats().journalEvents).toBe(emitted.length);
    await producer.close();
    // The journal on the once-full disk replays completely.
    await persisterFor(queueName);
    const replayer = new EventProducer({
      redisUrl: REDIS_URL,
      queueName,
      journalDir: join(mnt, 'journal'),
      journalCipher: pii,
    });
    cleanups.push(() => replayer.close());
    await waitForCalls(db.pool, calls);
    const counts = await countRows(db.pool, calls);
    for (const [table, n] of Object.entries(counts)) expect({ table, n }).toEqual({ table, n: calls.length });
  });
});
