import type { CallEvent } from './schemas.js';

/**
 * How one journal line is written and read. Events can carry caller numbers, so with a cipher
 * each line is sealed (`pii:` + base64 of the PII cipher's output, which names its own key);
 * lines from before that (`enc:`, IV | tag | ciphertext under PII_ENCRYPTION_KEY) are still
 * read. A line that does not decode is never guessed at: the caller quarantines it.
 */

export interface JournalEntry {
  jobId: string;
  events: CallEvent[];
}

/** The part of src/persistence/pii.ts's PiiCipher the journal uses. */
export interface JournalCipher {
  encrypt(plain: string): Buffer;
  decrypt(data: Buffer): string;
}

const SEALED = 'pii:';
const LEGACY_SEALED = 'enc:';
/** The PII cipher's version byte; legacy lines are the same layout without it. */
const LEGACY_VERSION = Buffer.from([1]);

export class UndecodableLineError extends Error {}

export function encodeEntry(entry: JournalEntry, cipher?: JournalCipher): string {
  const json = JSON.stringify(entry);
  return cipher ? SEALED + cipher.encrypt(json).toString('base64') : json;
}

export function decodeEntry(line: string, cipher?: JournalCipher): JournalEntry {
  let json = line;
  try {
    if (line.startsWith(SEALED) || line.startsWith(LEGACY_SEALED)) {
      if (!cipher) throw new Error('line is encrypted but no key was given');
      const data = Buffer.from(line.slice(SEALED.length), 'base64');
      json = cipher.decrypt(line.startsWith(SEALED) ? data : Buffer.concat([LEGACY_VERSION, data]));
    }
    const entry = JSON.parse(json) as JournalEntry;
    if (typeof entry?.jobId !== 'string' || !Array.isArray(entry.events))
      throw new Error('not a journal entry');
    return entry;
  } catch (err) {
    throw new UndecodableLineError((err as Error).message);
  }
}
