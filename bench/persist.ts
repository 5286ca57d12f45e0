/**
 * Persistence benchmark: simulated calls → EventProducer → Redis (BullMQ) → Persister →
 * Postgres, against a baseline of writing the same rows with plain multi-row INSERTs.
 *
 *   npm run bench:persist -- [--calls 200] [--seconds 20] [--concurrency 4] [--rounds 3] [--keep]
 *
 * Event rate model, per call (stated in docs/BENCHMARKS.md): every ~3 s each side takes a
 * turn (2 turn events), each turn carries ~6 latency metrics (12 metric events), plus one
 * state transition and one extracted slot: 16 events / 3 s ≈ 5.3 events/s per call, so 200
 * calls ≈ 1,070 events/s. Calls also emit call.started, a lifecycle event and call.ended.
 *
 * Phase 1 (rate): that load for --seconds; reports persistence lag p50/p95/p99.
 * Phase 2 (throughput): about as many fresh events, emitted at once; events/s until committed.
 * Baseline: the phase-2 rows written by a sequential multi-row INSERT loop (no queue, no
 * validation, no idempotency), in its own database. Phase 2 and baseline alternate for
 * --rounds rounds; the medians are reported.
 */

import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import pg from 'pg';
import { loadConfig } from '../src/config/config.js';
import { type CallEvent, makeEvent } from '../src/events/index.js';
import { EventProducer } from '../src/events/producer.js';
import { dropDatabase } from '../src/persistence/db.js';
import { migrateUp } from '../src/persistence/migrate.js';
import { Persister } from '../src/persistence/persister.js';
import { PiiKeyRing } from '../src/persistence/pii.js';
import { sleep } from '../src/util/async.js';

const METRICS = [
  'eou_delay_ms',
  'stt_ms',
  'llm_ttft_ms',
  'tts_ttfb_ms',
  'voice_to_voice_ms',
  'turn_total_ms',
];
const BUNDLE_MS = 3000;

interface Options {
  calls: number;
  seconds: number;
  concurrency: number;
  batchMs: number;
  batchMax: number;
  keep: boolean;
  rounds: number;
}

/** Events one call emits in one ~3 s window: 2 turns, 12 metrics, a transition and a slot. */
function bundle(callId: string, n: number): CallEvent[] {
  const events: CallEvent[] = [];
  for (const role of ['user', 'agent'] as const) {
    const turnId = randomUUID();
    events.push(
      makeEvent('turn', callId, {
        turn_id: turnId,
        turn_number: 2 * n + (role === 'agent' ? 1 : 0),
        role,
        text:
          role === 'user'
            ? 'I would like Tuesday at ten please'
            : 'Tuesday at ten works. May I have your name?',
        state_at_turn: 'collect_time',
        metadata: { asr_confidence: 0.91 },
      }),
    );
    for (const name of METRICS) {
      events.push(
        makeEvent('metric', callId, { name, value: Math.round(Math.random() * 90000) / 100, tags: { role } }),
      );
    }
    if (role === 'user') {
      events.push(
        makeEvent('slot', callId, {
          slot_id: randomUUID(),
          turn_id: turnId,
          slot_name: 'time',
          slot_value: '10:00',
          confidence: 0.9,
          method: 'rules',
          validated: true,
        }),
      );
    }
  }
  events.push(
    makeEvent('transition', callId, {
      transition_id: randomUUID(),
      from_state: 'collect_date',
      to_state: 'collect_time',
      trigger_type: 'user_input',
      latency_ms: 3,
    }),
  );
  return events;
}

function callStart(callId: string): CallEvent[] {
  return [
    makeEvent('call.started', callId, {
      room_name: `bench-${callId.slice(0, 8)}`,
      session_id: `bench-${callId}`,
      flow: 'appointment-booking',
      worker_id: 'bench',
      direction: 'simulated',
      sip: { caller_number: '+15550100200' },
    }),
    makeEvent('call.lifecycle', callId, { event_type: 'answered', source: 'telephony' }),
  ];
}

function callEnd(callId: string): CallEvent {
  return makeEvent('call.ended', callId, { status: 'COMPLETED', ended_at: new Date().toISOString() });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await migrateUp(url.toString());
  return url.toString();
}

/** Phase 1: emits the modelled load for `seconds` and returns per-event lags (ms). */
async function ratePhase(
  producer: EventProducer,
  lags: number[],
  opts: Options,
): Promise<{ emitted: number; elapsed: number }> {
  const calls = Array.from({ length: opts.calls }, () => ({ id: randomUUID(), n: 0, next: 0 }));
  const start = Date.now();
  let emitted = 0;
  for (const c of calls) {
    // Calls start spread over one window, as they would on a busy system.
    c.next = start + Math.random() * BUNDLE_MS;
    for (const e of callStart(c.id)) producer.emit(e);
    emitted += 2;
  }
  while (Date.now() - start < opts.seconds * 1000) {
    const now = Date.now();
    for (const c of calls) {
      if (c.next > now) continue;
      for (const e of bundle(c.id, c.n++)) producer.emit(e);
      emitted += 16;
      c.next += BUNDLE_MS * (0.8 + Math.random() * 0.4);
    }
    await sleep(20);
  }
  for (const c of calls) producer.emit(callEnd(c.id));
  emitted += calls.length;
  await producer.flush();
  const deadline = Date.now() + 60_000;
  while (lags.length < emitted && Date.now() < deadline) await sleep(20);
  return { emitted, elapsed: (Date.now() - start) / 1000 };
}

function makeWorkload(opts: Options, eventCount: number): CallEvent[] {
  const events: CallEvent[] = [];
  const ids = Array.from({ length: opts.calls }, () => randomUUID());
  for (const id of ids) events.push(...callStart(id));
  for (let n = 0; events.length < eventCount - ids.length; n++) {
    for (const id of ids) events.push(...bundle(id, n));
  }
  for (const id of ids) events.push(callEnd(id));
  return events;
}

const ORG = '00000000-0000-0000-0000-000000000001';
const BASELINE_COLUMNS: Record<string, string> = {
  conversations:
    'id session_id room_name status direction flow worker_id caller_number_encrypted caller_number_hash started_at',
  call_events: 'id organization_id conversation_id event_type source occurred_at',
  conversation_turns:
    'id organization_id conversation_id turn_number role text state_at_turn metadata created_at',
  system_metrics: 'id time organization_id metric_name metric_value tags conversation_id',
  extracted_slots:
    'id organization_id conversation_id turn_id slot_name slot_value confidence_score extraction_method validated created_at',
  state_transitions:
    'id organization_id conversation_id from_state to_state trigger_type transition_time latency_ms',
};

/** The row the persister would write for an event, as [table, values] (baseline only). */
function baselineRow(e: CallEvent, pii: PiiKeyRing): [string, unknown[]] | undefined {
  const at = e.occurred_at;
  switch (e.type) {
    case 'call.started': {
      const p = e.payload;
      const caller = p.sip?.caller_number ?? '';
      const enc = [pii.encrypt(caller), pii.hash(caller)];
      return [
        'conversations',
        [e.call_id, p.session_id, p.room_name, 'ACTIVE', p.direction, p.flow, p.worker_id, ...enc, at],
      ];
    }
    case 'call.lifecycle':
      return ['call_events', [e.id, ORG, e.call_id, e.payload.event_type, e.payload.source, at]];
    case 'turn': {
      const p = e.payload;
      return [
        'conversation_turns',
        [p.turn_id, ORG, e.call_id, p.turn_number, p.role, p.text, p.state_at_turn, p.metadata, at],
      ];
    }
    case 'metric':
      return ['system_metrics', [e.id, at, ORG, e.payload.name, e.payload.value, e.payload.tags, e.call_id]];
    case 'slot': {
      const p = e.payload;
      const row = [
        p.slot_id,
        ORG,
        e.call_id,
        p.turn_id,
        p.slot_name,
        p.slot_value,
        p.confidence,
        p.method,
        p.validated,
        at,
      ];
      return ['extracted_slots', row];
    }
    case 'transition': {
      const p = e.payload;
      const row = [
        p.transition_id,
        ORG,
        e.call_id,
        p.from_state,
        p.to_state,
        p.trigger_type,
        at,
        p.latency_ms,
      ];
      return ['state_transitions', row];
    }
    default:
      return undefined;
  }
}

/**
 * Baseline: the same rows through plain multi-row INSERT ... VALUES (batchMax rows per
 * statement, one connection, autocommit), then one UPDATE per ended call. Returns events/s.
 */
async function baseline(url: string, events: CallEvent[], pii: PiiKeyRing, batch: number): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const rows = new Map<string, unknown[][]>(Object.keys(BASELINE_COLUMNS).map((t) => [t, []]));
  for (const e of events) {
    const row = baselineRow(e, pii);
    if (row) rows.get(row[0])!.push(row[1]);
  }
  const started = performance.now();
  for (const [table, tableRows] of rows) {
    const cols = BASELINE_COLUMNS[table]!.split(' ');
    for (let i = 0; i < tableRows.length; i += batch) {
      const chunk = tableRows.slice(i, i + batch);
      const values = chunk.map((_, r) => `(${cols.map((_, c) => `$${r * cols.length + c + 1}`).join(', ')})`);
      await client.query(
        `INSERT INTO ${table} (${cols.join(', ')}) VALUES ${values.join(', ')}`,
        chunk.flat(),
      );
    }
  }
  for (const e of events) {
    if (e.type !== 'call.ended') continue;
    await client.query("UPDATE conversations SET status = 'COMPLETED', ended_at = $2 WHERE id = $1", [
      e.call_id,
      e.payload.ended_at,
    ]);
  }
  const seconds = (performance.now() - started) / 1000;
  await client.end();
  return events.length / seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(opts: Options): Promise<void> {
  const cfg = loadConfig();
  const pii = PiiKeyRing.fromConfig(cfg);
  const suffix = Math.random().toString(16).slice(2, 8);
  const pipelineUrl = await createDatabase(cfg.DATABASE_URL, `va_bench_${suffix}`);
  const baselineUrl = await createDatabase(cfg.DATABASE_URL, `va_bench_${suffix}_baseline`);
  const queueName = `bench-events-${suffix}`;
  let lags: number[] = [];
  const persister = new Persister({
    databaseUrl: pipelineUrl,
    redisUrl: cfg.REDIS_URL,
    queueName,
    pii,
    concurrency: opts.concurrency,
    onPersisted: (events, committedAt) => {
      for (const e of events) lags.push(committedAt - Date.parse(e.occurred_at));
    },
  });
  const producer = new EventProducer({
    redisUrl: cfg.REDIS_URL,
    queueName,
    journalDir: `${cfg.EVENT_JOURNAL_DIR}/bench`,
    batchMs: opts.batchMs,
    batchMax: opts.batchMax,
  });
  try {
    await persister.start();
    const modelRate = (opts.calls * 16) / (BUNDLE_MS / 1000);
    console.log(
      `phase 1: ${opts.calls} calls ≈ ${modelRate.toFixed(0)} events/s modelled, ${opts.seconds} s`,
    );
    const rate = await ratePhase(producer, lags, opts);
    const sorted = [...lags].sort((a, b) => a - b);
    const phase1 = {
      events: rate.emitted,
      persisted: lags.length,
      offeredPerSec: Math.round(rate.emitted / opts.seconds),
      lagP50ms: percentile(sorted, 50),
      lagP95ms: percentile(sorted, 95),
      lagP99ms: percentile(sorted, 99),
      lagMaxms: sorted.at(-1),
    };
    console.log(phase1);

    // Alternating rounds, median ratio: on a small shared machine a single pair of runs is
    // at the mercy of whatever else is running at that moment.
    console.log(`phase 2: ${opts.rounds} rounds of ~${rate.emitted} events emitted at once, vs baseline`);
    const rounds: { pipelinePerSec: number; baselinePerSec: number; ratio: number }[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      const workload = makeWorkload(opts, rate.emitted);
      lags = [];
      const t0 = performance.now();
      for (const e of workload) producer.emit(e);
      await producer.flush();
      while (lags.length < workload.length) await sleep(5);
      const pipelinePerSec = workload.length / ((performance.now() - t0) / 1000);
      const baselinePerSec = await baseline(baselineUrl, workload, pii, opts.batchMax);
      const round = {
        pipelinePerSec: Math.round(pipelinePerSec),
        baselinePerSec: Math.round(baselinePerSec),
        ratio: Number((pipelinePerSec / baselinePerSec).toFixed(2)),
      };
      console.log(`  round ${r + 1}: ${workload.length} events`, round);
      rounds.push(round);
    }
    const result = {
      phase1,
      throughput: {
        pipelinePerSec: median(rounds.map((r) => r.pipelinePerSec)),
        baselinePerSec: median(rounds.map((r) => r.baselinePerSec)),
        ratio: median(rounds.map((r) => r.ratio)),
      },
      settings: { ...opts, cpus: (await import('node:os')).cpus().length },
    };
    console.log(JSON.stringify(result, null, 2));
    const ok = result.throughput.ratio >= 0.5 && phase1.lagP99ms < 1000 && phase1.persisted === phase1.events;
    console.log(ok ? 'PASS: ≥50 % of baseline and p99 lag < 1 s' : 'FAIL: below target');
    if (!ok) process.exitCode = 1;
  } finally {
    await producer.close();
    await persister.close();
    if (!opts.keep) {
      await dropDatabase(pipelineUrl);
      await dropDatabase(baselineUrl);
    }
    const { Queue } = await import('bullmq');
    for (const name of [queueName, `${queueName}-dlq`]) {
      const q = new Queue(name, { connection: { url: cfg.REDIS_URL } });
      await q.obliterate({ force: true });
      await q.close();
    }
  }
}

const program = new Command('bench:persist')
  .option('--calls <n>', 'concurrent simulated calls', '200')
  .option('--seconds <n>', 'duration of the rate phase', '20')
  .option('--concurrency <n>', 'persister concurrency', '4')
  .option('--batch-ms <n>', 'producer batch interval', '100')
  .option('--batch-max <n>', 'producer batch size', '100')
  .option('--rounds <n>', 'throughput rounds (median reported)', '3')
  .option('--keep', 'keep the benchmark databases')
  .action(async (o: Record<string, string | boolean | undefined>) => {
    await main({
      calls: Number(o.calls),
      seconds: Number(o.seconds),
      concurrency: Number(o.concurrency),
      batchMs: Number(o.batchMs),
      batchMax: Number(o.batchMax),
      keep: Boolean(o.keep),
      rounds: Number(o.rounds),
    });
  });

await program.parseAsync();
