import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpOk, sipHealthy } from '../../../src/stack/probes.js';

/** A real HTTP server answering the status its path names (/200, /429, /500). */
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    res.statusCode = Number(req.url?.slice(1)) || 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('health probes', () => {
  it('httpOk counts only 2xx as up unless told otherwise', async () => {
    expect(await httpOk(`${base}/200`)).toBe(true);
    expect(await httpOk(`${base}/429`)).toBe(false);
    expect(await httpOk(`${base}/500`)).toBe(false);
    expect(await httpOk(`${base}/429`, 1000, [429])).toBe(true);
  });

  it("livekit-sip's 429 (busy) counts as up, its errors do not", async () => {
    expect(await sipHealthy(`${base}/429`)).toBe(true);
    expect(await sipHealthy(`${base}/503`)).toBe(false);
  });

  it('nothing listening is down', async () => {
    expect(await httpOk('http://127.0.0.1:1/')).toBe(false);
  });
});
