import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/config.js';
import { httpOk, redisAnswers, sipHealthy, tcpAnswers, tcpPortFree, udpPortFree, waitFor } from './probes.js';
import { forgetPid, ownedPid, type StackPaths, stackPaths, startDetached, stopPid } from './processes.js';

/**
 * The local stack: LiveKit server and SIP bridge (always ours), Postgres and Redis (the
 * machine's own when they answer, otherwise started here). Ports and keys come from
 * livekit.yaml / livekit-sip.yaml, which match the config defaults.
 */

export const LIVEKIT_HTTP_PORT = 7880;
export const LIVEKIT_TCP_PORT = 7881;
export const SIP_HEALTH_PORT = 8082;

export interface ComponentStatus {
  name: string;
  state: 'running (ours)' | 'running (external)' | 'stopped';
  healthy: boolean;
  pid?: number;
  detail: string;
}

export class StackError extends Error {
  override name = 'StackError';
}

function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: u.port ? Number(u.port) : defaultPort };
}

function binary(paths: StackPaths, name: string): string {
  const file = resolve(paths.bin, name);
  if (!existsSync(file)) throw new StackError(`${name} is not installed at ${file}: run npm run setup`);
  return file;
}

export class LocalStack {
  readonly paths: StackPaths;

  constructor(
    private readonly cfg: Config,
    private readonly projectRoot = process.cwd(),
    private readonly log: (line: string) => void = (l) => console.log(l),
  ) {
    this.paths = stackPaths(resolve(projectRoot, cfg.STACK_DIR));
  }

  async up(): Promise<void> {
    await this.ensurePostgres();
    await this.ensureRedis();
    await this.ensureLiveKit();
    await this.ensureSip();
  }

  async down(): Promise<void> {
    for (const [name, marker] of [
      ['livekit-sip', 'livekit-sip'],
      ['livekit-server', 'livekit-server'],
      ['redis', 'redis-server'],
    ] as const) {
      const pid = ownedPid(this.paths, name, marker);
      if (pid) {
        await stopPid(pid);
        this.log(`stopped ${name} (pid ${pid})`);
      }
      forgetPid(this.paths, name);
    }
    const pgMarker = join(this.paths.run, 'postgres.started');
    if (existsSync(pgMarker)) {
      try {
        execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', this.pgVersion(), 'main', 'stop']);
        this.log('stopped postgres (started by stack up)');
      } catch (err) {
        this.log(`could not stop postgres: ${(err as Error).message}`);
      }
      rmSync(pgMarker, { force: true });
    }
  }

  async status(): Promise<ComponentStatus[]> {
    const pg = hostPort(this.cfg.DATABASE_URL, 5432);
    const rd = hostPort(this.cfg.REDIS_URL, 6379);
    const pgStarted = existsSync(join(this.paths.run, 'postgres.started'));
    const redisPid = ownedPid(this.paths, 'redis', 'redis-server');
    const lkPid = ownedPid(this.paths, 'livekit-server', 'livekit-server');
    const sipPid = ownedPid(this.paths, 'livekit-sip', 'livekit-sip');
    const [pgUp, rdUp, lkUp, sipUp] = await Promise.all([
      tcpAnswers(pg.port, pg.host),
      redisAnswers(rd.port, rd.host),
      httpOk(`http://127.0.0.1:${LIVEKIT_HTTP_PORT}/`),
      sipHealthy(`http://127.0.0.1:${SIP_HEALTH_PORT}/`),
    ]);
    const state = (up: boolean, ours: boolean): ComponentStatus['state'] =>
      ours ? 'running (ours)' : up ? 'running (external)' : 'stopped';
    return [
      {
        name: 'postgres',
        state: state(pgUp, pgStarted && pgUp),
        healthy: pgUp,
        detail: `${pg.host}:${pg.port}`,
      },
      {
        name: 'redis',
        state: state(rdUp, !!redisPid),
        healthy: rdUp,
        pid: redisPid,
        detail: `${rd.host}:${rd.port}`,
      },
      {
        name: 'livekit-server',
        state: state(lkUp, !!lkPid),
        healthy: lkUp,
        pid: lkPid,
        detail: `ws://127.0.0.1:${LIVEKIT_HTTP_PORT}`,
      },
      {
        name: 'livekit-sip',
        state: state(sipUp, !!sipPid),
        healthy: sipUp,
        pid: sipPid,
        detail: `sip:127.0.0.1:${this.cfg.SIP_PORT} (health :${SIP_HEALTH_PORT})`,
      },
    ];
  }

  private pgVersion(): string {
    const versions = readdirSync('/etc/postgresql').sort((a, b) => Number(a) - Number(b));
    const v = versions.at(-1);
    if (!v) throw new StackError('no PostgreSQL cluster found in /etc/postgresql: run npm run setup');
    return v;
  }

  private async ensurePostgres(): Promise<void> {
    const { host, port } = hostPort(this.cfg.DATABASE_URL, 5432);
    if (await tcpAnswers(port, host)) {
      this.log(`postgres      ok    ${host}:${port} (already running)`);
      return;
    }
    if (!existsSync('/etc/postgresql')) {
      throw new StackError(
        `PostgreSQL does not answer on ${host}:${port} and is not installed: run npm run setup`,
      );
    }
    this.log(`postgres      start ${host}:${port}`);
    execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', this.pgVersion(), 'main', 'start']);
    writeFileSync(join(this.paths.run, 'postgres.started'), new Date().toISOString());
    await waitFor('postgres', () => tcpAnswers(port, host), 20_000);
  }

  private async ensureRedis(): Promise<void> {
    const { host, port } = hostPort(this.cfg.REDIS_URL, 6379);
    if (await redisAnswers(port, host)) {
      this.log(`redis         ok    ${host}:${port} (already running)`);
      return;
    }
    if (!(await tcpPortFree(port, host))) {
      throw new StackError(`port ${port} is taken by something that is not Redis; free it or set REDIS_URL`);
    }
    this.log(`redis         start ${host}:${port}`);
    const pid = startDetached(this.paths, 'redis', 'redis-server', [
      '--bind',
      host,
      '--port',
      String(port),
      '--save',
      '',
      '--appendonly',
      'no',
    ]);
    await waitFor(
      'redis',
      () => redisAnswers(port, host),
      10_000,
      () => !!ownedPid(this.paths, 'redis', 'redis'),
    );
    this.log(`              pid ${pid}`);
  }

  private async ensureLiveKit(): Promise<void> {
    const url = `http://127.0.0.1:${LIVEKIT_HTTP_PORT}/`;
    if (ownedPid(this.paths, 'livekit-server', 'livekit-server') && (await httpOk(url))) {
      this.log(`livekit-server ok   ${url} (already running)`);
      return;
    }
    for (const p of [LIVEKIT_HTTP_PORT, LIVEKIT_TCP_PORT]) {
      if (!(await tcpPortFree(p))) {
        throw new StackError(
          `port ${p} is taken by another process; stop it (e.g. another livekit-server) first`,
        );
      }
    }
    const bin = binary(this.paths, 'livekit-server');
    this.log(`livekit-server start ${url}`);
    startDetached(this.paths, 'livekit-server', bin, ['--config', resolve(this.projectRoot, 'livekit.yaml')]);
    await waitFor(
      'livekit-server',
      () => httpOk(url),
      30_000,
      () => !!ownedPid(this.paths, 'livekit-server', 'livekit-server'),
    ).catch((err: Error) => {
      throw new StackError(`${err.message}; see ${join(this.paths.logs, 'livekit-server.log')}`);
    });
  }

  private async ensureSip(): Promise<void> {
    const url = `http://127.0.0.1:${SIP_HEALTH_PORT}/`;
    if (ownedPid(this.paths, 'livekit-sip', 'livekit-sip') && (await sipHealthy(url))) {
      this.log(`livekit-sip   ok    sip:127.0.0.1:${this.cfg.SIP_PORT} (already running)`);
      return;
    }
    if (!(await udpPortFree(this.cfg.SIP_PORT)) || !(await tcpPortFree(this.cfg.SIP_PORT))) {
      throw new StackError(
        `SIP port ${this.cfg.SIP_PORT} is taken by another process; stop it or set SIP_PORT`,
      );
    }
    if (!(await tcpPortFree(SIP_HEALTH_PORT))) {
      throw new StackError(`port ${SIP_HEALTH_PORT} (livekit-sip health) is taken by another process`);
    }
    const bin = binary(this.paths, 'livekit-sip');
    this.log(`livekit-sip   start sip:127.0.0.1:${this.cfg.SIP_PORT}`);
    startDetached(
      this.paths,
      'livekit-sip',
      bin,
      ['--config', resolve(this.projectRoot, 'livekit-sip.yaml')],
      {
        ...process.env,
        // livekit-sip reads these in preference to its file; keep them consistent with ours.
        LIVEKIT_API_KEY: this.cfg.LIVEKIT_API_KEY,
        LIVEKIT_API_SECRET: this.cfg.LIVEKIT_API_SECRET,
        LIVEKIT_WS_URL: this.cfg.LIVEKIT_URL,
      },
    );
    await waitFor(
      'livekit-sip',
      () => sipHealthy(url),
      30_000,
      () => !!ownedPid(this.paths, 'livekit-sip', 'livekit-sip'),
    ).catch((err: Error) => {
      throw new StackError(`${err.message}; see ${join(this.paths.logs, 'livekit-sip.log')}`);
    });
  }
}
