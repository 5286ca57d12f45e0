import type { Command } from 'commander';
import { type Config, loadConfig } from '../config/config.js';
import { type DeadLetterEntry, DeadLetterQueue } from '../persistence/dlq.js';
import { PiiKeyRing } from '../persistence/pii.js';

/**
 * `voice-agent dlq list|replay`: inspect and re-queue what the persister could not write —
 * dead-lettered events and batches in the event queue's failed set.
 */

function openQueue(cfg: Config): DeadLetterQueue {
  return new DeadLetterQueue(
    cfg.EVENT_QUEUE,
    { url: cfg.REDIS_URL },
    PiiKeyRing.fromConfig(cfg),
    cfg.DLQ_RETENTION_DAYS * 86_400_000,
  );
}

function describe(e: DeadLetterEntry): string {
  if (e.kind === 'batch') {
    const n = Array.isArray(e.event) ? e.event.length : 0;
    return `${e.id}  ${e.failedAt}  failed batch of ${n} event(s)\n    ${e.reason}`;
  }
  const ev = e.event as { type?: unknown; call_id?: unknown } | null;
  return `${e.id}  ${e.failedAt}  type=${String(ev?.type)} call=${String(ev?.call_id)}\n    ${e.reason}`;
}

export function registerDlq(program: Command): void {
  const dlq = program
    .command('dlq')
    .description('Inspect and replay dead-lettered call events and failed event batches');

  dlq
    .command('list')
    .description('Show dead-lettered events and failed batches with the reason each was refused')
    .option('--limit <n>', 'entries of each kind to show', '50')
    .option('--json', 'print full entries as JSON lines (events decrypted: they may hold personal data)')
    .action(async (opts: { limit: string; json?: boolean }) => {
      const queue = openQueue(loadConfig());
      try {
        const limit = Number(opts.limit);
        const entries = [...(await queue.list(limit)), ...(await queue.listFailed(limit))];
        for (const e of entries) console.log(opts.json ? JSON.stringify(e) : describe(e));
        if (!opts.json) {
          console.log(
            `${await queue.count()} dead-lettered event(s) in ${queue.queue.name}, ${await queue.countFailed()} failed batch(es) in ${queue.events.name}`,
          );
        }
      } finally {
        await queue.close();
      }
    });

  dlq
    .command('replay')
    .description('Put dead-lettered events and failed batches back on the event queue (all, or --id ones)')
    .option('--id <id...>', 'entry id(s) as shown by `dlq list`')
    .action(async (opts: { id?: string[] }) => {
      const cfg = loadConfig();
      const queue = openQueue(cfg);
      try {
        const n = await queue.replay(opts.id);
        console.log(`replayed ${n} entr${n === 1 ? 'y' : 'ies'} onto ${cfg.EVENT_QUEUE}`);
      } finally {
        await queue.close();
      }
    });
}
