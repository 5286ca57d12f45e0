import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/config.js';
import { httpOk, redisAnswers, sipHealthy, tcpAnswers, tcpPortFree, udpPortFree, waitFor } from './probes.js';
import { forgetPid, ownedPid, type StackPaths, stackPaths, startDetached, stopPid } from './processes.js';
import { readStackPorts, type StackConfigFiles, type StackPorts } from './stack-files.js';

/**
 * The local stack: LiveKit server and SIP bridge (always ours), Postgres and Redis (the
 * machine's own when they answer, otherwise started here). Ports and keys come from
 * livekit.yaml / livekit-sip.yaml, which match the config defaults.
 */

/** The components a test run may start itself (Postgres and Redis are the machine's). */
export type LiveKitComponent = 'livekit-server' | 'livekit-sip';

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
  readonly files: StackConfigFiles;
  readonly ports: StackPorts;

  constructor(
    private readonly cfg: Config,
    projectRoot = process.cwd(),
    private readonly log: (line: string) => void = (l) => console.log(l),
    files?: StackConfigFiles,
  ) {
    this.paths = stackPaths(resolve(projectRoot, cfg.STACK_DIR));
    this.files = files ?? {
      livekit: resolve(projectRoot, 'livekit.yaml'),
      sip: resolve(projectRoot, 'livekit-sip.yaml'),
    };
    this.ports = readStackPorts(this.files);
  }

  private get livekitUrl(): string {
    return `http://127.0.0.1:${this.ports.livekitHttp}/`;
  }

  private get sipHealthUrl(): string {
    return `http://127.0.0.1:${this.ports.sipHealth}/`;
  }

  async up(): Promise<void> {
    await this.ensurePostgres();
    await this.ensureRedis();
    await this.ensureLiveKit();
    await this.ensureSip();
  }

  /**
   * For a test run: requires the machine's Postgres and Redis, starts livekit-server and
   * livekit-sip only when nothing healthy serves their ports (whoever started it), and returns
   * what it started so `stopStarted` can stop exactly that.
   */
  async startMissing(): Promise<LiveKitComponent[]> {
    const pg = hostPort(this.cfg.DATABASE_URL, 5432);
    const rd = hostPort(this.cfg.REDIS_URL, 6379);
    if (!(await tcpAnswers(pg.port, pg.host))) {
      throw new StackError(`PostgreSQL does not answer on ${pg.host}:${pg.port}: run npm run setup`);
    }
    if (!(await redisAnswers(rd.port, rd.host))) {
      throw new StackError(`Redis does not answer on ${rd.host}:${rd.port}: run npm run setup`);
    }
    const started: LiveKitComponent[] = [];
    if (!(await httpOk(this.livekitUrl))) {
      await this.startLiveKit();
      started.push('livekit-server');
    }
    if (!(await sipHealthy(this.sipHealthUrl))) {
      await this.startSip().catch(async (err: unknown) => {
        await this.stopStarted(started);
        throw err;
      });
      started.push('livekit-sip');
    }
    return started;
  }

  /** Stops the components `startMissing` started, newest first; anything else is left alone. */
  async stopStarted(components: readonly LiveKitComponent[]): Promise<void> {
    for (const name of [...components].reverse()) {
      const pid = ownedPid(this.paths, name, name);
      if (pid) {
        await stopPid(pid);
        this.log(`stopped ${name} (pid ${pid})`);
      }
      forgetPid(this.paths, name);
    }
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
      httpOk(this.livekitUrl),
      sipHealthy(this.sipHealthUrl),
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
        detail: `ws://127.0.0.1:${this.ports.livekitHttp}`,
      },
      {
        name: 'livekit-sip',
        state: state(sipUp, !!sipPid),
        healthy: sipUp,
        pid: sipPid,
        detail: `sip:127.0.0.1:${this.ports.sip} (health :${this.ports.sipHealth})`,
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
    const redisDir = join(this.paths.root, 'redis');
    mkdirSync(redisDir, { recursive: true });
    const pid = startDetached(this.paths, 'redis', 'redis-server', [
      '--bind',
      host,
      '--port',
      String(port),
      // The event queue and the dead letters live in this Redis: keep them across restarts.
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--dir',
      redisDir,
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
    if (ownedPid(this.paths, 'livekit-server', 'livekit-server') && (await httpOk(this.livekitUrl))) {
      this.log(`livekit-server ok   ${this.livekitUrl} (already running)`);
      return;
    }
    await this.startLiveKit();
  }

  private async startLiveKit(): Promise<void> {
    for (const p of [this.ports.livekitHttp, this.ports.livekitTcp]) {
      if (!(await tcpPortFree(p))) {
        throw new StackError(
          `port ${p} is taken by another process; stop it (e.g. another livekit-server) first`,
        );
      }
    }
    const bin = binary(this.paths, 'livekit-server');
    this.log(`livekit-server start ${this.livekitUrl}`);
    startDetached(this.paths, 'livekit-server', bin, ['--config', this.files.livekit]);
    await this.untilHealthy('livekit-server', () => httpOk(this.livekitUrl));
  }

  /** Waits for a component just started; its log's path goes into the error. */
  private async untilHealthy(name: LiveKitComponent, probe: () => Promise<boolean>): Promise<void> {
    await waitFor(name, probe, 30_000, () => !!ownedPid(this.paths, name, name)).catch((err: Error) => {
      throw new StackError(`${err.message}; see ${join(this.paths.logs, `${name}.log`)}`);
    });
  }

  private async ensureSip(): Promise<void> {
    if (ownedPid(this.paths, 'livekit-sip', 'livekit-sip') && (await sipHealthy(this.sipHealthUrl))) {
      this.log(`livekit-sip   ok    sip:127.0.0.1:${this.ports.sip} (already running)`);
      return;
    }
    await this.startSip();
  }

  private async startSip(): Promise<void> {
    const { sip, sipHealth } = this.ports;
    if (!(await udpPortFree(sip)) || !(await tcpPortFree(sip))) {
      throw new StackError(`SIP port ${sip} is taken by another process; stop it or set SIP_PORT`);
    }
    if (!(await tcpPortFree(sipHealth))) {
      throw new StackError(`port ${sipHealth} (livekit-sip health) is taken by another process`);
    }
    const bin = binary(this.paths, 'livekit-sip');
    this.log(`livekit-sip   start sip:127.0.0.1:${sip}`);
    startDetached(this.paths, 'livekit-sip', bin, ['--config', this.files.sip], {
      ...process.env,
      // livekit-sip reads these in preference to its file; keep them consistent with ours.
      LIVEKIT_API_KEY: this.cfg.LIVEKIT_API_KEY,
      LIVEKIT_API_SECRET: this.cfg.LIVEKIT_API_SECRET,
      LIVEKIT_WS_URL: this.cfg.LIVEKIT_URL,
    });
    await this.untilHealthy('livekit-sip', () => sipHealthy(this.sipHealthUrl));
  }
}
