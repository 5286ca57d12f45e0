/**
 * Chaos benchmark: K concurrent simulated calls emitting events through the real producer
 * (journal included) into a real Redis, drained by the real persister into a real Postgres,
 * while one fault per phase is injected. Everything runs on scratch servers this benchmark
 * starts on free ports (the machine's own Postgres and Redis are never touched).
 *
 *   npm run bench:chaos -- [--quick] [--json] [--calls K] [--faults a,b,…]
 *
 * Faults: postgres-restart (pg_ctl stop -m fast, 3 s down, start), redis-restart (SIGKILL,
 * 2 s down, start on the same AOF), persister-sigkill (restarted after 1 s), worker-sigkill
 * (a new worker with the same instance id takes over), network-cut (the producer's TCP path
 * to Redis dropped for 4 s), disk-full (journal on a full tmpfs while Redis is cut; space
 * returns after 3 s, Redis after 5 s). Per fault: events emitted (row ids written down before
 * emit()), persisted (found in Postgres), duplicated (rows beyond one per id), lost (emitted,
 * never persisted), and calls whose rows match their call.ended declaration.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import pg from 'pg';
import { DEV_PII_ENCRYPTION_KEY, DEV_PII_HASH_KEY } from '../src/config/config.js';
import { migrateUp } from '../src/persistence/migrate.js';
import { sleep } from '../src/util/async.js';
import { ScratchPostgres, ScratchRedis, TcpProxy, TinyDisk } from './chaos/services.js';

export const FAULTS = [
  'postgres-restart',
  'redis-restart',
  'persister-sigkill',
  'worker-sigkill',
  'network-cut',
  'disk-full',
] as const;
export type FaultType = (typeof FAULTS)[number];

export interface FaultResult {
  type: FaultType;
  emitted: number;
  persisted: number;
  duplicated: number;
  lost: number;
  calls: number;
  callsEnded: number;
  callsReconciled: number;
}

export interface ChaosOptions {
  faults: FaultType[];
  calls: number;
  phaseMs: number;
  faultAtMs: number;
  log?: (line: string) => void;
}

/** The compiled children, whether this runs from bench/ (tests) or dist/bench/. */
const DIST = join(
  import.meta.dirname,
  import.meta.dirname.endsWith(join('dist', 'bench')) ? '' : join('..', 'dist', 'bench'),
  'chaos',
);
const keys = { encKey: DEV_PII_ENCRYPTION_KEY, hashKey: DEV_PII_HASH_KEY };

function child(script: string, options: object): ChildProcess & { ready: Promise<void> } {
  const proc = spawn(process.execPath, [join(DIST, script), JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  }) as ChildProcess & { ready: Promise<void> };
  proc.ready = new Promise((resolve, reject) => {
    proc.stdout?.on('data', (d: Buffer) => {
      if (String(d).includes('ready')) resolve();
      // The worker's last words: its producer's stats after close (dropped, journal, mode).
      for (const line of String(d).split('\n'))
        if (line.startsWith('closed')) console.error(`${script} ${line}`);
    });
    proc.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
  });
  proc.ready.catch(() => {});
  return proc;
}

async function kill(proc: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill(signal);
  await exited;
}

interface Emitted {
  calls: string[];
  turns: string[];
  metrics: string[];
}

function readEmitted(file: string): Emitted {
  const out: Emitted = { calls: [], turns: [], metrics: [] };
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [kind, id] = line.split(' ');
    if (!id) continue;
    if (kind === 'call') out.calls.push(id);
    else if (kind === 'turn') out.turns.push(id);
    else if (kind === 'metric') out.metrics.push(id);
  }
  return out;
}

async function countPersisted(pool: pg.Pool, e: Emitted): Promise<{ persisted: number; duplicated: number }> {
  const q = async (table: string, ids: string[]) =>
    (
      await pool.query<{ n: string; d: string }>(
        `SELECT count(*) AS n, count(DISTINCT id) AS d FROM ${table} WHERE id = ANY($1::uuid[])`,
        [ids],
      )
    ).rows[0]!;
  const [t, m] = [await q('conversation_turns', e.turns), await q('system_metrics', e.metrics)];
  return {
    persisted: Number(t.d) + Number(m.d),
    duplicated: Number(t.n) - Number(t.d) + Number(m.n) - Number(m.d),
  };
}

class Bench {
  readonly pg = new ScratchPostgres();
  readonly redis = new ScratchRedis();
  proxy!: TcpProxy;
  persister: (ChildProcess & { ready: Promise<void> }) | undefined;
  pool!: pg.Pool;
  readonly dir = mkdtempSync(join(tmpdir(), 'chaos-'));
  readonly queueName = `chaos-events-${Date.now()}`;

  constructor(readonly opts: ChaosOptions) {}

  async start(): Promise<void> {
    await this.pg.start();
    await migrateUp(this.pg.url);
    await this.redis.start();
    this.proxy = new TcpProxy(this.redis.port);
    await this.proxy.start();
    this.pool = new pg.Pool({ connectionString: this.pg.url, max: 2 });
    this.pool.on('error', () => {});
    await this.startPersister();
  }

  async startPersister(): Promise<void> {
    this.persister = child('persister.js', {
      databaseUrl: this.pg.url,
      redisUrl: this.redis.url,
      queueName: this.queueName,
      ...keys,
    });
    await this.persister.ready;
  }

  startWorker(type: FaultType, journalDir: string): ChildProcess & { ready: Promise<void> } {
    return child('worker.js', {
      redisUrl: this.proxy.urlFor(this.redis.url),
      queueName: this.queueName,
      journalDir,
      emittedFile: join(this.dir, `${type}.emitted`),
      calls: this.opts.calls,
      callMs: Math.round(this.opts.phaseMs / 2.5),
      eventMs: 100,
      instanceId: `chaos-${type}`,
      ...keys,
    });
  }

  async phase(type: FaultType): Promise<FaultResult> {
    const disk = type === 'disk-full' ? new TinyDisk() : undefined;
    disk?.mount(256);
    const journalDir = disk ? join(disk.dir, 'journal') : join(this.dir, `journal-${type}`);
    let worker = this.startWorker(type, journalDir);
    await worker.ready;
    await sleep(this.opts.faultAtMs);
    this.opts.log?.(`${type}: injecting`);
    worker = (await this.inject(type, worker, disk, journalDir)) ?? worker;
    await sleep(Math.max(0, this.opts.phaseMs - this.opts.faultAtMs));
    await kill(worker, 'SIGTERM');
    const emitted = readEmitted(join(this.dir, `${type}.emitted`));
    const total = emitted.turns.length + emitted.metrics.length;
    const counts = await this.drain(emitted, total);
    disk?.unmount();
    // The last batches' reconciliation runs just after their commit: give it a moment.
    const reconciliation = () =>
      this.pool.query<{ ended: string; complete: string }>(
        `SELECT count(*) AS ended, count(*) FILTER (WHERE complete) AS complete
         FROM call_reconciliation WHERE call_id = ANY($1::uuid[])`,
        [emitted.calls],
      );
    let rec = await reconciliation();
    for (let i = 0; i < 40 && rec.rows[0]?.ended !== rec.rows[0]?.complete; i++) {
      await sleep(250);
      rec = await reconciliation();
    }
    const short = await this.pool.query<{
      declared: Record<string, number>;
      observed: Record<string, number>;
    }>(
      'SELECT declared, observed FROM call_reconciliation WHERE NOT complete AND call_id = ANY($1::uuid[]) LIMIT 3',
      [emitted.calls],
    );
    for (const r of short.rows) this.opts.log?.(`${type}: incomplete call ${JSON.stringify(r)}`);
    return {
      type,
      emitted: total,
      persisted: counts.persisted,
      duplicated: counts.duplicated,
      lost: total - counts.persisted,
      calls: emitted.calls.length,
      callsEnded: Number(rec.rows[0]?.ended ?? 0),
      callsReconciled: Number(rec.rows[0]?.complete ?? 0),
    };
  }

  /** Waits until every emitted row is in Postgres, or nothing more arrives for 20 s. */
  async drain(emitted: Emitted, total: number): Promise<{ persisted: number; duplicated: number }> {
    let last = { persisted: -1, duplicated: 0 };
    let lastChange = Date.now();
    for (;;) {
      const now = await countPersisted(this.pool, emitted).catch(() => last);
      if (now.persisted !== last.persisted) lastChange = Date.now();
      last = now;
      if (now.persisted >= total || Date.now() - lastChange > 20_000) return now;
      await sleep(250);
    }
  }

  async inject(
    type: FaultType,
    worker: ChildProcess,
    disk: TinyDisk | undefined,
    journalDir: string,
  ): Promise<(ChildProcess & { ready: Promise<void> }) | undefined> {
    switch (type) {
      case 'postgres-restart':
        await this.pg.restart(3000);
        return;
      case 'redis-restart':
        await this.redis.restart(2000);
        return;
      case 'persister-sigkill':
        await kill(this.persister, 'SIGKILL');
        await sleep(1000);
        await this.startPersister();
        return;
      case 'worker-sigkill': {
        await kill(worker, 'SIGKILL');
        const next = this.startWorker(type, journalDir);
        await next.ready;
        return next;
      }
      case 'network-cut':
        await this.proxy.cut();
        await sleep(4000);
        await this.proxy.start();
        return;
      case 'disk-full':
        disk?.fill();
        await this.proxy.cut();
        await sleep(3000);
        disk?.free();
        await sleep(2000);
        await this.proxy.start();
        return;
    }
  }

  async stop(): Promise<void> {
    await kill(this.persister, 'SIGKILL');
    await this.proxy?.cut().catch(() => {});
    await this.pool?.end().catch(() => {});
    this.redis.stop();
    this.pg.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function runChaos(opts: ChaosOptions): Promise<FaultResult[]> {
  const bench = new Bench(opts);
  try {
    await bench.start();
    const results: FaultResult[] = [];
    for (const type of opts.faults) {
      const r = await bench.phase(type);
      opts.log?.(`${type}: ${JSON.stringify(r)}`);
      results.push(r);
    }
    return results;
  } finally {
    await bench.stop();
  }
}

function table(results: FaultResult[]): string {
  const head = ['fault', 'emitted', 'persisted', 'duplicated', 'lost', 'calls ended/reconciled'];
  const rows = results.map((r) => [
    r.type,
    r.emitted,
    r.persisted,
    r.duplicated,
    r.lost,
    `${r.callsEnded}/${r.callsReconciled} of ${r.calls}`,
  ]);
  return [head, ...rows]
    .map((row) => row.map((c, i) => String(c).padEnd(i === 0 ? 20 : 12)).join(''))
    .join('\n');
}

async function main(): Promise<void> {
  const program = new Command()
    .option('--quick', 'short phases (under 3 minutes in all)')
    .option('--json', 'print {"faults":[…]} only')
    .option('--calls <k>', 'concurrent calls')
    .option('--faults <list>', `comma-separated subset of ${FAULTS.join(',')}`)
    .parse();
  const o = program.opts<{ quick?: boolean; json?: boolean; calls?: string; faults?: string }>();
  const faults = (o.faults ? o.faults.split(',') : [...FAULTS]) as FaultType[];
  for (const f of faults) if (!FAULTS.includes(f)) throw new Error(`unknown fault "${f}"`);
  const results = await runChaos({
    faults,
    calls: Number(o.calls ?? (o.quick ? 4 : 16)),
    phaseMs: o.quick ? 12_000 : 30_000,
    faultAtMs: o.quick ? 4000 : 10_000,
    ...(o.json ? {} : { log: (l: string) => console.error(l) }),
  });
  console.log(o.json ? JSON.stringify({ faults: results }) : table(results));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
