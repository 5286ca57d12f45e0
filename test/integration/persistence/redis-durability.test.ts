import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRedisPersistence } from '../../../src/events/redis-durability.js';
import { redisPersistenceEnabled } from '../../../src/observability/metrics.js';
import { freeTcpPort as freePort } from '../../../src/worker/free-port.js';
import { waitFor } from './helpers.js';

/** Scratch redis-servers on free ports: the machine's own Redis is never reconfigured. */
describe('Redis persistence check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'redis-dur-'));
  const servers: { kill: () => void }[] = [];

  async function scratchRedis(args: string[]): Promise<Redis> {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...args],
      {
        stdio: 'ignore',
      },
    );
    servers.push({ kill: () => child.kill('SIGKILL') });
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 100 });
    await waitFor(async () => (await client.ping().catch(() => '')) === 'PONG', 'scratch redis');
    return client;
  }

  let none: Redis;
  let aof: Redis;
  beforeAll(async () => {
    none = await scratchRedis(['--save', '', '--appendonly', 'no']);
    aof = await scratchRedis(['--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec']);
  });
  afterAll(() => {
    none?.disconnect();
    aof?.disconnect();
    for (const s of servers) s.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('warns with log and metric when Redis persists nothing', async () => {
    const warnings: string[] = [];
    const log = { warn: (_o: unknown, msg: string) => warnings.push(msg) } as never;
    expect(await checkRedisPersistence(none, 'worker', log)).toBe('none');
    expect(warnings.join()).toMatch(/no persistence/);
    const metric = (await redisPersistenceEnabled.get()).values;
    expect(metric).toEqual([expect.objectContaining({ labels: { mode: 'none' }, value: 0 })]);
  });

  it('is quiet for AOF', async () => {
    const warnings: string[] = [];
    const log = { warn: (_o: unknown, msg: string) => warnings.push(msg) } as never;
    expect(await checkRedisPersistence(aof, 'persister', log)).toBe('aof');
    expect(warnings).toEqual([]);
    expect((await redisPersistenceEnabled.get()).values[0]).toMatchObject({
      labels: { mode: 'aof' },
      value: 1,
    });
  });
});
