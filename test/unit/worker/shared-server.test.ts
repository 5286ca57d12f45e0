import type { AddressInfo } from 'node:net';
import { initializeLogger, type JobContext } from '@livekit/agents';
import {
  Job,
  JobType,
  Room as RoomInfo,
  ServerMessage,
  WorkerMessage,
  WorkerStatus,
} from '@livekit/protocol';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { sleep } from '../../../src/util/async.js';
import { SharedProcessServer } from '../../../src/worker/shared-server.js';

/**
 * The shared-process executor against a fake LiveKit agent endpoint (a real WebSocket server
 * speaking the worker protocol's protobuf messages): registration, refusing and accepting
 * jobs, one JobContext per call sharing the process's user data, termination running the
 * call's shutdown callbacks, load reports. The real server is exercised by
 * test/integration/worker/shared-executor.test.ts and the drain/crash tests.
 */

interface FakeLiveKit {
  url: string;
  received: WorkerMessage[];
  send(msg: ConstructorParameters<typeof ServerMessage>[0]): void;
  next(kase: string, from?: number): Promise<WorkerMessage>;
  close(): Promise<void>;
}

async function fakeLiveKit(): Promise<FakeLiveKit> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const received: WorkerMessage[] = [];
  let socket: import('ws').WebSocket | undefined;
  let authorization: string | undefined;
  wss.on('connection', (ws, req) => {
    socket = ws;
    authorization = req.headers.authorization;
    ws.on('message', (data: Buffer) => received.push(WorkerMessage.fromBinary(new Uint8Array(data))));
  });
  return {
    url: `http://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    received,
    send: (msg) => socket?.send(new ServerMessage(msg).toBinary()),
    async next(kase, from = 0) {
      const deadline = Date.now() + 5000;
      for (;;) {
        const found = received.slice(from).find((m) => m.message.case === kase);
        if (found) {
          expect(authorization).toMatch(/^Bearer /);
          return found;
        }
        if (Date.now() > deadline) throw new Error(`no ${kase} message from the worker`);
        await sleep(20);
      }
    },
    close: () => new Promise<void>((resolve) => wss.close(() => resolve())),
  };
}

// JobContext logs through the framework's logger, which the worker initializes at start.
initializeLogger({ pretty: false, level: 'error' });

const job = (id: string) =>
  new Job({ id, type: JobType.JT_ROOM, room: new RoomInfo({ name: `room-${id}` }) });

let cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  cleanup = [];
});

async function setup(accept: (active: number) => boolean) {
  const lk = await fakeLiveKit();
  const contexts: JobContext[] = [];
  const shutdowns: string[] = [];
  const server = new SharedProcessServer({
    wsUrl: lk.url,
    apiKey: 'devkey',
    apiSecret: 'secret-secret-secret-secret-secret',
    agentName: 'unit-agent',
    userData: { vad: 'shared-model' },
    entry: async (ctx) => {
      contexts.push(ctx);
      ctx.addShutdownCallback(async () => {
        shutdowns.push(ctx.job.id);
      });
    },
    accept: (active) => accept(active),
    load: (active) => active / 4,
    loadThreshold: 0.9,
    logger: pino({ level: 'error' }),
  });
  const running = server.run();
  cleanup.push(async () => {
    await server.close();
    await lk.close();
    await running;
  });
  const register = await lk.next('register');
  lk.send({ message: { case: 'register', value: { workerId: 'W_unit' } } });
  return { lk, server, contexts, shutdowns, register };
}

describe('SharedProcessServer', () => {
  it('registers under the agent name and refuses jobs it must not take', async () => {
    const { lk, register, contexts } = await setup(() => false);
    expect(register.message.value).toMatchObject({ agentName: 'unit-agent', type: JobType.JT_ROOM });
    lk.send({ message: { case: 'availability', value: { job: job('J_1') } } });
    const answer = await lk.next('availability');
    expect(answer.message.value).toMatchObject({ jobId: 'J_1', available: false });
    expect(contexts).toHaveLength(0);
  });

  it('runs each assigned job in its own context, sharing the process data, and ends it on termination', async () => {
    const { lk, server, contexts, shutdowns } = await setup((active) => active < 2);
    for (const id of ['J_a', 'J_b']) {
      const from = lk.received.length;
      lk.send({ message: { case: 'availability', value: { job: job(id) } } });
      const answer = await lk.next('availability', from);
      expect(answer.message.value).toMatchObject({
        jobId: id,
        available: true,
        participantIdentity: `agent-${id}`,
      });
      lk.send({ message: { case: 'assignment', value: { job: job(id), token: 'jwt' } } });
    }
    await expect.poll(() => contexts.length).toBe(2);
    expect(contexts.map((c) => c.job.id)).toEqual(['J_a', 'J_b']);
    expect(contexts[0]!.workerId).toBe('W_unit');
    expect(contexts[0]!.room).not.toBe(contexts[1]!.room);
    expect(contexts[0]!.proc.userData).toEqual({ vad: 'shared-model' });
    expect(contexts[0]!.proc).toBe(contexts[1]!.proc);
    expect(server.activeCalls).toBe(2);

    // A third job while two run: refused.
    const from = lk.received.length;
    lk.send({ message: { case: 'availability', value: { job: job('J_c') } } });
    expect((await lk.next('availability', from)).message.value).toMatchObject({ available: false });

    lk.send({ message: { case: 'termination', value: { jobId: 'J_a' } } });
    await expect.poll(() => server.activeCalls).toBe(1);
    expect(shutdowns).toEqual(['J_a']);

    // Load reports carry the call count (ends trigger one at once).
    const update = lk.received.filter((m) => m.message.case === 'updateWorker').at(-1);
    expect(update?.message.value).toMatchObject({ jobCount: 1, status: WorkerStatus.WS_AVAILABLE });
  });

  it('drain reports full and ends, via close, the calls still running', async () => {
    const { lk, server, shutdowns } = await setup(() => true);
    lk.send({ message: { case: 'availability', value: { job: job('J_d') } } });
    await lk.next('availability');
    lk.send({ message: { case: 'assignment', value: { job: job('J_d'), token: 'jwt' } } });
    await expect.poll(() => server.activeCalls).toBe(1);
    await expect(server.drain(300)).rejects.toThrow(/still active/);
    const full = lk.received.filter((m) => m.message.case === 'updateWorker').at(-1);
    expect(full?.message.value).toMatchObject({ status: WorkerStatus.WS_FULL });
    await server.close();
    expect(shutdowns).toEqual(['J_d']);
    expect(server.activeCalls).toBe(0);
  });
});
