import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../../src/util/async.js';
import { freeTcpPort } from '../../src/worker/free-port.js';

/**
 * The chaos benchmark's own services: a scratch Postgres cluster, a scratch Redis (AOF
 * everysec) and a TCP proxy, on free ports. The machine's own servers are never touched.
 */

const PG_BIN = '/usr/lib/postgresql/15/bin';

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** Runs a command as the postgres user when we are root (initdb refuses root). */
function asPostgres(cmd: string, args: string[]): void {
  const root = process.getuid?.() === 0;
  execFileSync(root ? 'runuser' : cmd, root ? ['-u', 'postgres', '--', cmd, ...args] : args, {
    stdio: 'ignore',
  });
}

export class ScratchPostgres {
  readonly dir = mkdtempSync(join(tmpdir(), 'chaos-pg-'));
  port = 0;

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/chaos`;
  }

  async start(): Promise<void> {
    this.port = await freeTcpPort();
    chmodSync(this.dir, 0o777);
    const data = join(this.dir, 'data');
    asPostgres(`${PG_BIN}/initdb`, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    await this.up();
  }

  async up(): Promise<void> {
    const data = join(this.dir, 'data');
    const opts = `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c fsync=on`;
    asPostgres(`${PG_BIN}/pg_ctl`, ['-D', data, '-o', opts, '-l', join(this.dir, 'log'), '-w', 'start']);
    await until('scratch postgres', () => answers(this.port));
  }

  /** A real restart: fast shutdown (connections cut), then start again. */
  async restart(downMs: number): Promise<void> {
    asPostgres(`${PG_BIN}/pg_ctl`, ['-D', join(this.dir, 'data'), '-m', 'fast', '-w', 'stop']);
    await sleep(downMs);
    await this.up();
  }

  stop(): void {
    try {
      asPostgres(`${PG_BIN}/pg_ctl`, ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already down
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class ScratchRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'chaos-redis-'));
  port = 0;
  #proc: ChildProcess | undefined;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = await freeTcpPort();
    await this.up();
  }

  async up(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', ''];
    this.#proc = spawn('redis-server', [...args, '--appendonly', 'yes', '--appendfsync', 'everysec'], {
      stdio: 'ignore',
    });
    await until('scratch redis', () => answers(this.port));
  }

  /** SIGKILL (no shutdown save) and start again on the same AOF. */
  async restart(downMs: number): Promise<void> {
    const proc = this.#proc;
    const exited = new Promise((r) => proc?.once('exit', r));
    proc?.kill('SIGKILL');
    await exited;
    await sleep(downMs);
    await this.up();
  }

  stop(): void {
    this.#proc?.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Forwards 127.0.0.1:port to a target; cut() drops every connection and refuses new ones. */
export class TcpProxy {
  port = 0;
  #server: net.Server | undefined;
  readonly #sockets = new Set<net.Socket>();

  constructor(readonly targetPort: number) {}

  async start(): Promise<void> {
    if (!this.port) this.port = await freeTcpPort();
    this.#server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.#server?.listen(this.port, '127.0.0.1', resolve));
  }

  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    const closed = new Promise((r) => server?.close(r));
    for (const s of this.#sockets) s.destroy();
    await closed;
  }

  urlFor(url: string): string {
    const u = new URL(url);
    u.port = String(this.port);
    return u.toString();
  }
}

/** A small tmpfs for the journal, so the benchmark can fill it (we are root). */
export class TinyDisk {
  readonly dir = mkdtempSync(join(tmpdir(), 'chaos-disk-'));

  mount(sizeKb: number): void {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', this.dir]);
    mkdirSync(join(this.dir, 'journal'), { recursive: true });
  }

  fill(): void {
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${join(this.dir, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
    } catch {
      // dd stops with ENOSPC: that is the point
    }
  }

  free(): void {
    rmSync(join(this.dir, 'filler'), { force: true });
  }

  unmount(): void {
    try {
      execFileSync('umount', ['-l', this.dir]);
    } catch {
      // not mounted
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
