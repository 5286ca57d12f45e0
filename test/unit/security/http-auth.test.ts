import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { startHttpServer } from '../../../src/observability/http.js';

describe('health and /metrics server', () => {
  it('listens on loopback unless told otherwise', async () => {
    const server = await startHttpServer(0, new Registry(), { ready: () => ({ ready: true }) });
    try {
      expect((server.address() as AddressInfo).address).toBe('127.0.0.1');
    } finally {
      server.close();
    }
  });

  it('answers 401 without the bearer token and 200 with it', async () => {
    const token = 'metrics-token-0123456789';
    const server = await startHttpServer(
      0,
      new Registry(),
      { ready: () => ({ ready: true }) },
      { bearerToken: token },
    );
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const path of ['/metrics', '/healthz', '/readyz']) {
        expect((await fetch(base + path)).status).toBe(401);
        expect((await fetch(base + path, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
        expect((await fetch(base + path, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
          200,
        );
      }
    } finally {
      server.close();
    }
  });
});
