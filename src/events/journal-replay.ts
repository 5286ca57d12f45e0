import type { Logger } from '../observability/logger.js';
import {
  eventBatchesQueued,
  eventJournalQuarantinedLines,
  eventJournalsAdopted,
} from '../observability/metrics.js';
import {
  adoptJournals,
  type JournalCipher,
  type JournalEntry,
  readEntries,
  settleJournal,
} from './journal.js';

export interface AdoptedReplayOptions {
  dir: string;
  /** The caller's own journal, never adopted. */
  ownPath?: string;
  cipher?: JournalCipher;
  /** Queues one entry; throws when Redis is unreachable (the rest waits for the next scan). */
  add: (entry: JournalEntry) => Promise<void>;
  log?: Logger;
}

/**
 * Replays every journal (and quarantine file) in `dir` whose lock is free: each in write
 * order, then removed, its undecodable lines kept in quarantine. Locks are released whatever
 * happens; a journal interrupted half-way is replayed again from its start next time (same
 * job ids, same row ids: harmless).
 */
export async function replayAdoptedJournals(opts: AdoptedReplayOptions): Promise<void> {
  const adopted = await adoptJournals(opts.dir, opts.ownPath);
  try {
    for (const journal of adopted) {
      const undecodable: string[] = [];
      let replayed = 0;
      for await (const entry of readEntries(journal.path, (line) => undecodable.push(line), opts.cipher)) {
        await opts.add(entry);
        eventBatchesQueued.inc({ path: 'journal' });
        replayed++;
      }
      const quarantined = await settleJournal(journal, undecodable);
      if (replayed === 0 && journal.quarantine) continue;
      eventJournalsAdopted.inc();
      eventJournalQuarantinedLines.inc(quarantined);
      opts.log?.[quarantined > 0 ? 'error' : 'info'](
        { path: journal.path, batches: replayed, quarantined },
        quarantined > 0
          ? 'replayed an adopted event journal; undecodable lines kept in a quarantine file'
          : 'replayed an adopted event journal',
      );
    }
  } finally {
    await Promise.all(adopted.map((j) => j.lock.release()));
  }
}
