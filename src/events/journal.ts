import { createReadStream, existsSync } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { type FileLock, tryLockFile } from './file-lock.js';
import {
  decodeEntry,
  encodeEntry,
  type JournalCipher,
  type JournalEntry,
  UndecodableLineError,
} from './journal-codec.js';

export type { JournalCipher, JournalEntry } from './journal-codec.js';

/**
 * Append-only JSON-lines file holding event batches the producer could not queue while Redis
 * was unreachable. A journal is named by a stable instance id (EVENT_JOURNAL_INSTANCE_ID,
 * default the host name — a container keeps its name across restarts, whereas its PID is
 * always 1), `events-<id>.jsonl`, or `events-<id>~N.jsonl` when several producers share an id.
 * Whoever writes a journal holds its `.lock` (flock, see file-lock.ts); any producer that can
 * take the lock of a non-empty journal adopts it: replays it, then deletes it.
 *
 * Lines that do not decode (torn by a crash, sealed with a key this process lacks) are moved
 * to `quarantine-…jsonl` files, never deleted; rescans retry them, so they replay once the
 * right key is configured.
 */

const JOURNAL = /^(events|quarantine)-.+\.jsonl$/;
const MAX_SLOTS = 64;

export type JournalWriteFailure = 'enospc' | 'short_write' | 'io';

/** The batch did not reach the disk whole; nothing of it counts as written. */
export class JournalWriteError extends Error {
  constructor(
    readonly reason: JournalWriteFailure,
    message: string,
  ) {
    super(message);
  }
}

function sanitize(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, '_');
}

export function defaultInstanceId(): string {
  return hostname();
}

export class EventJournal {
  #path: string | undefined;
  #lock: FileLock | undefined;
  #handle: FileHandle | null = null;
  #size = 0;
  #bytes = 0;
  #events = 0;

  constructor(
    readonly dir: string,
    readonly instanceId: string,
    readonly cipher?: JournalCipher,
  ) {}

  /** The file this instance writes, once it has written (and locked) one. */
  get path(): string | undefined {
    return this.#path;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get events(): number {
    return this.#events;
  }

  /** Appends one batch and forces it to disk; on any failure the file is as it was before. */
  async append(entry: JournalEntry): Promise<void> {
    const handle = this.#handle ?? (await this.#open());
    const line = Buffer.from(`${encodeEntry(entry, this.cipher)}\n`);
    try {
      const { bytesWritten } = await handle.write(line, 0, line.length, this.#size);
      if (bytesWritten !== line.length) {
        throw new JournalWriteError(
          'short_write',
          `journal short write: ${bytesWritten} of ${line.length} bytes`,
        );
      }
      await handle.datasync();
    } catch (err) {
      // A torn line would be quarantined at replay; cutting it off keeps the file clean.
      await handle.truncate(this.#size).catch(() => {});
      if (err instanceof JournalWriteError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      const reason = code === 'ENOSPC' || code === 'EDQUOT' ? 'enospc' : 'io';
      throw new JournalWriteError(reason, `journal write failed: ${(err as Error).message}`);
    }
    this.#size += line.length;
    this.#bytes += line.length;
    this.#events += entry.events.length;
  }

  /** Takes the first free slot for this instance id and opens it for appending. */
  async #open(): Promise<FileHandle> {
    await mkdir(this.dir, { recursive: true });
    const base = `events-${sanitize(this.instanceId)}`;
    for (let slot = 1; slot <= MAX_SLOTS && !this.#lock; slot++) {
      const path = join(this.dir, slot === 1 ? `${base}.jsonl` : `${base}~${slot}.jsonl`);
      const lock = await tryLockFile(`${path}.lock`);
      if (!lock) continue;
      this.#lock = lock;
      this.#path = path;
    }
    if (!this.#path) throw new JournalWriteError('io', `no free journal slot for ${base} in ${this.dir}`);
    // The slot may hold batches of an earlier life of this instance: they stay and replay.
    this.#handle = await open(this.#path, 'a+');
    this.#size = (await this.#handle.stat()).size;
    this.#bytes = this.#size;
    return this.#handle;
  }

  /** Streams this instance's entries in write order. */
  entries(onUndecodable: (line: string, err: Error) => void): AsyncGenerator<JournalEntry> {
    return this.#path ? readEntries(this.#path, onUndecodable, this.cipher) : empty();
  }

  /** Empties the journal once every entry has been delivered. */
  async clear(): Promise<void> {
    if (this.#handle) await this.#handle.truncate(0);
    this.#size = 0;
    this.#bytes = 0;
    this.#events = 0;
  }

  /** Releases the file; a non-empty journal stays on disk for whoever takes its lock next. */
  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = null;
    await handle?.close();
    if (this.#path && this.#size === 0) await unlink(this.#path).catch(() => {});
    await this.#lock?.release();
    this.#lock = undefined;
    this.#path = undefined;
  }
}

async function* empty(): AsyncGenerator<JournalEntry> {}

export async function* readEntries(
  path: string,
  onUndecodable: (line: string, err: Error) => void,
  cipher?: JournalCipher,
): AsyncGenerator<JournalEntry> {
  if (!existsSync(path)) return;
  const lines = createInterface({
    input: createReadStream(path, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let entry: JournalEntry;
    try {
      entry = decodeEntry(line, cipher);
    } catch (err) {
      if (!(err instanceof UndecodableLineError)) throw err;
      onUndecodable(line, err);
      continue;
    }
    yield entry;
  }
}

export interface AdoptedJournal {
  path: string;
  quarantine: boolean;
  lock: FileLock;
}

/** Non-empty journals and quarantine files in `dir` whose lock is free, now locked by us. */
export async function adoptJournals(dir: string, ownPath?: string): Promise<AdoptedJournal[]> {
  if (!existsSync(dir)) return [];
  const adopted: AdoptedJournal[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    if (!JOURNAL.test(name) || path === ownPath) continue;
    if ((await stat(path).catch(() => null))?.size) {
      const lock = await tryLockFile(`${path}.lock`);
      // Re-check under the lock: the previous holder may have replayed and removed it.
      if (lock && existsSync(path)) adopted.push({ path, lock, quarantine: name.startsWith('quarantine-') });
      else await lock?.release();
    }
  }
  return adopted;
}

/**
 * Keeps undecodable lines: for a journal, in a new quarantine file next to it; for a
 * quarantine file, by rewriting it with the lines still undecodable (atomically, by rename).
 * Returns how many lines were newly quarantined.
 */
export async function settleJournal(journal: AdoptedJournal, undecodable: string[]): Promise<number> {
  if (journal.quarantine) {
    const text = undecodable.map((l) => `${l}\n`).join('');
    if (undecodable.length === 0) {
      // Quarantine names are never reused, so their lock file can go too (a journal slot's
      // lock file stays: deleting it could let two processes lock different inodes).
      await unlink(journal.path);
      await unlink(`${journal.path}.lock`).catch(() => {});
    } else
      await writeDurably(`${journal.path}.tmp`, text).then(() => rename(`${journal.path}.tmp`, journal.path));
    return 0;
  }
  await writeQuarantine(journal.path, undecodable);
  await unlink(journal.path);
  return undecodable.length;
}

/** Keeps lines of `journalPath` that did not decode in a new quarantine file beside it. */
export async function writeQuarantine(journalPath: string, lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  const name = basename(journalPath)
    .replace(/^events-/, 'quarantine-')
    .replace(/\.jsonl$/, '');
  const text = lines.map((l) => `${l}\n`).join('');
  await writeDurably(join(dirname(journalPath), `${name}-${Date.now()}-${process.pid}.jsonl`), text);
}

async function writeDurably(path: string, text: string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(text);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
