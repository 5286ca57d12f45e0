import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { CallEvent } from './schemas.js';

/**
 * Append-only JSON-lines file holding event batches the producer could not queue while Redis
 * was unreachable. One file per producer instance (no cross-process locking needed); files
 * left behind by a dead process on this host are adopted and replayed by the next producer.
 *
 * Events can carry caller numbers, so with a key each line is sealed with AES-256-GCM
 * (`enc:` + base64 of IV | tag | ciphertext): nothing personal sits on disk in clear.
 */

export interface JournalEntry {
  jobId: string;
  events: CallEvent[];
}

const PREFIX = 'events-';
const SEALED = 'enc:';

function seal(text: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return SEALED + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

function unseal(line: string, key: Buffer | undefined): string {
  if (!line.startsWith(SEALED)) return line;
  if (!key) throw new Error('journal line is encrypted but no key was given');
  const data = Buffer.from(line.slice(SEALED.length), 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
  decipher.setAuthTag(data.subarray(12, 28));
  return Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]).toString('utf8');
}

function sanitize(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, '_');
}

export class EventJournal {
  /** The key as bytes, for reading journals of other instances sealed with the same key. */
  get key(): Buffer | undefined {
    return this.#key;
  }

  readonly path: string;
  #handle: FileHandle | null = null;
  #bytes = 0;
  #events = 0;

  readonly #key: Buffer | undefined;

  /** `keyHex`: 64 hex characters (the PII encryption key); without it lines are plain JSON. */
  constructor(
    readonly dir: string,
    instanceId: string,
    keyHex?: string,
  ) {
    this.#key = keyHex ? Buffer.from(keyHex, 'hex') : undefined;
    this.path = join(dir, `${PREFIX}${sanitize(hostname())}-${process.pid}-${sanitize(instanceId)}.jsonl`);
  }

  get bytes(): number {
    return this.#bytes;
  }

  get events(): number {
    return this.#events;
  }

  /** Appends one batch and forces it to disk before resolving. */
  async append(entry: JournalEntry): Promise<void> {
    if (!this.#handle) {
      await mkdir(this.dir, { recursive: true });
      this.#handle = await open(this.path, 'a');
    }
    const json = JSON.stringify(entry);
    const line = `${this.#key ? seal(json, this.#key) : json}\n`;
    await this.#handle.write(line);
    await this.#handle.datasync();
    this.#bytes += Buffer.byteLength(line);
    this.#events += entry.events.length;
  }

  /** Streams this instance's entries in write order. */
  entries(onCorrupt: (line: number, err: Error) => void): AsyncGenerator<JournalEntry> {
    return readEntries(this.path, onCorrupt, this.#key);
  }

  /** Empties the journal once every entry has been delivered. */
  async clear(): Promise<void> {
    if (this.#handle) await this.#handle.truncate(0);
    else if (existsSync(this.path)) await unlink(this.path);
    this.#bytes = 0;
    this.#events = 0;
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = null;
    await handle?.close();
    // An empty journal is just clutter; a non-empty one must stay for the next producer.
    if (this.#bytes === 0 && existsSync(this.path)) await unlink(this.path).catch(() => {});
  }
}

export async function* readEntries(
  path: string,
  onCorrupt: (line: number, err: Error) => void,
  key?: Buffer,
): AsyncGenerator<JournalEntry> {
  if (!existsSync(path)) return;
  const lines = createInterface({
    input: createReadStream(path, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(unseal(line, key)) as JournalEntry;
      if (typeof entry.jobId !== 'string' || !Array.isArray(entry.events))
        throw new Error('not a journal entry');
      yield entry;
    } catch (err) {
      // A torn last line from a crash mid-write: report it, keep going.
      onCorrupt(n, err as Error);
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Non-empty journals in `dir` written by processes on this host that no longer run. */
export async function findOrphanJournals(dir: string, ownPath: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const host = sanitize(hostname());
  const orphans: string[] = [];
  for (const name of await readdir(dir)) {
    const match = new RegExp(`^${PREFIX}${host.replace(/[.]/g, '\\.')}-(\\d+)-.*\\.jsonl$`).exec(name);
    const path = join(dir, name);
    if (!match || path === ownPath || isAlive(Number(match[1]))) continue;
    if ((await stat(path)).size > 0) orphans.push(path);
  }
  return orphans;
}
