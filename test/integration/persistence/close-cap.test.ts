import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventProducer } from '../../../src/events/producer.js';
import { Persister } from '../../../src/persistence/persister.js';
import {
  createTestDatabase,
  obliterateQueues,
  persisterBase,
  REDIS_URL,
  randomName,
  sampleCall,
  type TestDatabase,
  waitFor,
} from './helpers.js';

describe('producer close cap', () => {
  let db: TestDatabase;
  let persister: Persister;
  const queueName = randomName('test-close-cap');

  beforeAll(async () => {
    db = await createTestDatabase();
    persister = new Persister(persisterBase(db.url, queueName));
    await persister.start();
  });
  afterAll(async () => {
    await persister?.close();
    await obliterateQueues(queueName);
    await db?.drop();
  });

  it('interruptOpenCalls ends the record of calls still running; ended calls are left alone', async () => {
    const producer = new EventProducer({
      redisUrl: REDIS_URL,
      queueName,
      journalDir: `.local/test-journal/${queueName}`,
      batchMs: 20,
    });
    const done = sampleCall(); // ends with call.ended COMPLETED
    const running = sampleCall().filter((e) => e.type !== 'call.ended');
    for (const e of [...done, ...running]) producer.emit(e);
    expect(producer.interruptOpenCalls('worker_close_timeout')).toBe(1);
    await producer.close();
    const status = async (id: string) =>
      (await db.pool.query('SELECT status, end_reason FROM conversations WHERE id = $1', [id])).rows[0];
    await waitFor(async () => (await status(running[0]!.call_id))?.status === 'INTERRUPTED', 'interrupted');
    expect(await status(running[0]!.call_id)).toEqual({
      status: 'INTERRUPTED',
      end_reason: 'worker_close_timeout',
    });
    expect((await status(done[0]!.call_id))?.status).toBe('COMPLETED');
  });
});
