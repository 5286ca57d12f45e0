import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { DeadLetterQueue } from '../persistence/dlq.js';

/** `voice-agent dlq list|replay`: inspect and re-queue events the persister could not write. */
export function registerDlq(program: Command): void {
  const dlq = program.command('dlq').description('Inspect and replay dead-lettered call events');

  dlq
    .command('list')
    .description('Show dead-lettered events with the reason each was refused')
    .option('--limit <n>', 'entries to show', '50')
    .option('--json', 'print full entries as JSON lines')
    .action(async (opts: { limit: string; json?: boolean }) => {
      const cfg = loadConfig();
      const queue = new DeadLetterQueue(cfg.EVENT_QUEUE, { url: cfg.REDIS_URL });
      try {
        const total = await queue.count();
        const entries = await queue.list(Number(opts.limit));
        for (const e of entries) {
          if (opts.json) {
            console.log(JSON.stringify(e));
            continue;
          }
          const ev = e.event as { type?: unknown; call_id?: unknown } | null;
          console.log(
            `${e.id}  ${e.failedAt}  type=${String(ev?.type)} call=${String(ev?.call_id)}\n    ${e.reason}`,
          );
        }
        console.log(`${total} dead-lettered event(s) in ${queue.queue.name}`);
      } finally {
        await queue.close();
      }
    });

  dlq
    .command('replay')
    .description('Put dead-lettered events back on the event queue (all, or --id ones)')
    .option('--id <id...>', 'DLQ entry id(s) as shown by `dlq list`')
    .action(async (opts: { id?: string[] }) => {
      const cfg = loadConfig();
      const queue = new DeadLetterQueue(cfg.EVENT_QUEUE, { url: cfg.REDIS_URL });
      try {
        const n = await queue.replay(opts.id);
        console.log(`replayed ${n} event(s) onto ${cfg.EVENT_QUEUE}`);
      } finally {
        await queue.close();
      }
    });
}
