import { createSocket } from 'node:dgram';
import { createConnection, createServer, type Socket } from 'node:net';
import { sleep } from '../util/async.js';

/** Small readiness probes: each answers "is it up?" without throwing. */

export function tcpPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

export function udpPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    sock.once('error', () => resolve(false));
    sock.bind(port, host, () => sock.close(() => resolve(true)));
  });
}

/** Connects and lets `converse` decide; a timeout, refusal or error answers false. */
function probeSocket(
  port: number,
  host: string,
  timeoutMs: number,
  converse: (sock: Socket, done: (ok: boolean) => void) => void,
): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ port, host });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('error', () => done(false));
    converse(sock, done);
  });
}

export function tcpAnswers(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return probeSocket(port, host, timeoutMs, (sock, done) => sock.once('connect', () => done(true)));
}

/**
 * True when the endpoint answers 2xx, or one of `alsoUp` (e.g. livekit-sip's 429 "UnderLoad",
 * which it answers while the machine's CPU is busy: alive and serving).
 */
export async function httpOk(
  url: string,
  timeoutMs = 1000,
  alsoUp: readonly number[] = [],
): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok || alsoUp.includes(res.status);
  } catch {
    return false;
  }
}

/** livekit-sip's health check: 429 means "busy", not down (see httpOk). */
export const sipHealthy = (url: string) => httpOk(url, 1000, [429]);

/** Sends PING over a raw socket so the probe needs no Redis client. */
export function redisAnswers(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return probeSocket(port, host, timeoutMs, (sock, done) => {
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  isStillRunning?: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    if (isStillRunning && !isStillRunning()) throw new Error(`${what} exited during start-up`);
    await sleep(200);
  }
  throw new Error(`${what} did not become healthy within ${Math.round(timeoutMs / 1000)} s`);
}

/** A TCP port nobody listens on right now (the OS picks it). */
export function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}
