/**
 * A chaos-benchmark worker: K concurrent simulated calls, each a real CallLifecycle over a
 * CountingSink over the real EventProducer (journal included), emitting a turn and a metric
 * every eventMs. Before each emit() the row id goes to `emittedFile` with a synchronous
 * write, so after a SIGKILL the file still says exactly what was handed over. SIGTERM ends
 * the calls and closes the producer, as a draining worker does.
 *
 * Run by bench/chaos.ts: node dist/bench/chaos/worker.js '<json options>'
 */
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { startCallHeartbeat } from '../../src/events/heartbeat.js';
import { CountingSink, makeEvent } from '../../src/events/index.js';
import { EventProducer } from '../../src/events/producer.js';
import { PiiCipher } from '../../src/persistence/pii.js';
import { sleep } from '../../src/util/async.js';
import { CallLifecycle } from '../../src/worker/call-lifecycle.js';

export interface ChaosWorkerOptions {
  redisUrl: string;
  queueName: string;
  journalDir: string;
  emittedFile: string;
  calls: number;
  callMs: number;
  eventMs: number;
  instanceId: string;
  encKey: string;
  hashKey: string;
}

const opts = JSON.parse(process.argv[2] ?? '{}') as ChaosWorkerOptions;
const producer = new EventProducer({
  redisUrl: opts.redisUrl,
  queueName: opts.queueName,
  journalDir: opts.journalDir,
  instanceId: opts.instanceId,
  journalCipher: new PiiCipher(opts.encKey, opts.hashKey),
  batchMs: 100,
  addTimeoutMs: 500,
  probeMs: 250,
  rescanMs: 2000,
  closeRetryMs: 20_000,
});
const emitted = openSync(opts.emittedFile, 'a');
let stopping = false;

async function runCall(): Promise<void> {
  const callId = randomUUID();
  const sink = new CountingSink(producer);
  const lifecycle = new CallLifecycle(sink, callId);
  writeSync(emitted, `call ${callId}\n`);
  lifecycle.started({
    room_name: `chaos-${callId.slice(0, 8)}`,
    session_id: `chaos-${callId}`,
    flow: 'chaos',
    worker_id: opts.instanceId,
    direction: 'inbound',
    sip: { caller_number: '+15550109999' },
  });
  const stopBeat = startCallHeartbeat(sink, { callId }, 1000);
  const endAt = Date.now() + opts.callMs;
  let n = 0;
  while (!stopping && Date.now() < endAt) {
    const turnId = randomUUID();
    writeSync(emitted, `turn ${turnId}\n`);
    sink.emit(
      makeEvent('turn', callId, {
        turn_id: turnId,
        turn_number: n,
        role: n % 2 ? 'agent' : 'user',
        text: `turn ${n}`,
      }),
    );
    const metric = makeEvent('metric', callId, { name: 'chaos_ms', value: n });
    writeSync(emitted, `metric ${metric.id}\n`);
    sink.emit(metric);
    n++;
    await sleep(opts.eventMs);
  }
  stopBeat();
  lifecycle.end({ status: 'COMPLETED', reason: stopping ? 'drain' : 'done' });
}

async function slot(): Promise<void> {
  while (!stopping) await runCall();
}

process.on('SIGTERM', () => {
  stopping = true;
});
const slots = Array.from({ length: opts.calls }, () => slot());
process.stdout.write('ready\n');
await Promise.all(slots);
await producer.close();
closeSync(emitted);
process.stdout.write(`closed ${JSON.stringify(producer.stats())}\n`);
process.exit(0);
