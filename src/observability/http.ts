import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/**
 * Health, readiness and Prometheus metrics over plain HTTP. Liveness (/healthz) only says the
 * process answers; readiness (/readyz) asks the owner whether it should get new work (a
 * draining or overloaded worker answers 503 so load balancers stop sending calls).
 */
export interface HealthSource {
  ready(): { ready: boolean; reason?: string } | Promise<{ ready: boolean; reason?: string }>;
  details?(): Record<string, unknown>;
}

export interface HttpListenOptions {
  /** Loopback unless configured (HTTP_HOST): metrics reveal traffic, health reveals load. */
  host?: string;
  /** When set, every path needs `Authorization: Bearer <token>` (HTTP_BEARER_TOKEN). */
  bearerToken?: string | undefined;
}

function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const given = Buffer.from(req.headers.authorization ?? '');
  const wanted = Buffer.from(`Bearer ${token}`);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

export function startHttpServer(
  port: number,
  /** A registry, or a function making the one to expose (e.g. merged with job processes'). */
  registry: Registry | (() => Promise<Registry>),
  health: HealthSource,
  listen: string | HttpListenOptions = {},
): Promise<Server> {
  const { host = '127.0.0.1', bearerToken } = typeof listen === 'string' ? { host: listen } : listen;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    void (async () => {
      try {
        if (!authorized(req, bearerToken)) {
          res.writeHead(401, { 'www-authenticate': 'Bearer' });
          res.end('unauthorized');
        } else if (path === '/healthz') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: 'ok', ...(health.details?.() ?? {}) }));
        } else if (path === '/readyz') {
          const r = await health.ready();
          res.writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ready: r.ready, reason: r.reason }));
        } else if (path === '/metrics') {
          const r = typeof registry === 'function' ? await registry() : registry;
          const body = await r.metrics();
          res.writeHead(200, { 'content-type': r.contentType });
          res.end(body);
        } else {
          res.writeHead(404);
          res.end('not found');
        }
      } catch (err) {
        res.writeHead(500);
        res.end((err as Error).message);
      }
    })();
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`HTTP_PORT ${port} is already in use`) : err),
    );
    server.listen(port, host, () => resolve(server));
  });
}
