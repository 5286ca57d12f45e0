/**
 * A chaos-benchmark persister: the real Persister with short stall settings (a SIGKILLed
 * persister's batches move on within ~7 s instead of up to 30 s), so a quick run stays quick.
 *
 * Run by bench/chaos.ts: node dist/bench/chaos/persister.js '<json options>'
 */
import { createLogger } from '../../src/observability/logger.js';
import { Persister } from '../../src/persistence/persister.js';
import { PiiCipher } from '../../src/persistence/pii.js';

const opts = JSON.parse(process.argv[2] ?? '{}') as {
  databaseUrl: string;
  redisUrl: string;
  queueName: string;
  encKey: string;
  hashKey: string;
};
const persister = new Persister({
  databaseUrl: opts.databaseUrl,
  redisUrl: opts.redisUrl,
  queueName: opts.queueName,
  pii: new PiiCipher(opts.encKey, opts.hashKey),
  concurrency: 4,
  retryBaseMs: 200,
  retryMaxMs: 2000,
  stall: { lockDuration: 5000, stalledInterval: 2000 },
  logger: createLogger({ name: 'chaos-persister', level: process.env.CHAOS_LOG_LEVEL ?? 'error' }),
});
await persister.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void persister.close().then(() => process.exit(0));
});
