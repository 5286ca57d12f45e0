import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * Personal data (caller numbers, slot values) is stored as AES-256-GCM ciphertext next to an
 * HMAC-SHA256 under a separate hash key, which finds every row about one number (support,
 * erasure) without decrypting and without the hash being brute-forceable over phone numbers.
 *
 * Encryption keys form a ring: each key has an id, every new ciphertext names the id of the
 * key that sealed it, and old keys stay in the ring so old rows and journals stay readable
 * until `voice-agent pii rotate` has re-sealed them under the active key.
 *
 * Binary layout (version 2): 0x02 | id length (1 byte) | id (ASCII) | 12-byte IV | 16-byte tag | body.
 * Version 1 (before the ring): 0x01 | IV | tag | body — no id; decrypted by trying each key
 * (the GCM tag tells which one sealed it).
 * Text layout (journal lines): `enc2:<id>:<base64 of IV | tag | body>`; the older `enc:<base64>`
 * is read like version 1.
 */

const V1 = 1;
const V2 = 2;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const TEXT_V1 = 'enc:';
const TEXT_V2 = 'enc2:';
/** Id given to the single PII_ENCRYPTION_KEY of deployments from before the ring. */
export const LEGACY_KEY_ID = 'legacy';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export class PiiKeyError extends Error {
  override name = 'PiiKeyError';
}

function keyFromHex(hex: string, name: string): Buffer {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new PiiKeyError(`${name} must be 64 hex characters (32 bytes)`);
  return Buffer.from(hex, 'hex');
}

/**
 * Parses `PII_KEYS` ("id1:hex,id2:hex"). Throws PiiKeyError naming the bad entry (never its key).
 */
export function parseKeyList(list: string): Map<string, string> {
  const keys = new Map<string, string>();
  for (const [i, entry] of list.split(',').entries()) {
    const trimmed = entry.trim();
    if (!trimmed) continue;
    const sep = trimmed.indexOf(':');
    const id = sep > 0 ? trimmed.slice(0, sep) : '';
    if (!KEY_ID.test(id)) {
      throw new PiiKeyError(`PII_KEYS entry ${i + 1} must be "id:hex" with an id of letters, digits, - or _`);
    }
    if (keys.has(id)) throw new PiiKeyError(`PII_KEYS names key "${id}" twice`);
    keyFromHex(trimmed.slice(sep + 1), `PII_KEYS key "${id}"`);
    keys.set(id, trimmed.slice(sep + 1));
  }
  return keys;
}

/**
 * Canonical form before hashing, so "+1 (555) 010-2000" and "sip:+15550102000@trunk" match:
 * drop a sip:/tel: scheme and any @host or ;params, keep a leading + and the digits.
 */
export function normalizePhoneNumber(raw: string): string {
  const bare = raw
    .trim()
    .replace(/^(sips?|tel):/i, '')
    .replace(/[@;].*$/, '');
  const plus = bare.startsWith('+') ? '+' : '';
  const digits = bare.replace(/\D/g, '');
  // Not a number (e.g. "anonymous"): keep the text, lower-cased, so it still hashes stably.
  return digits ? plus + digits : bare.toLowerCase();
}

export interface PiiKeyRingOptions {
  /** Key id → 64 hex characters. */
  keys: ReadonlyMap<string, string> | Record<string, string>;
  /** Id of the key new ciphertexts are sealed with. */
  activeKeyId: string;
  hashKeyHex: string;
}

/** Minimal config shape, so this module does not depend on src/config. */
export interface PiiKeyConfig {
  PII_ENCRYPTION_KEY?: string | undefined;
  PII_HASH_KEY: string;
  PII_KEYS?: string | undefined;
  PII_ACTIVE_KEY?: string | undefined;
}

function gcmOpen(key: Buffer, iv: Buffer, tag: Buffer, body: Buffer): string {
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
}

export class PiiKeyRing {
  readonly activeKeyId: string;
  readonly #keys = new Map<string, Buffer>();
  readonly #hashKey: Buffer;

  constructor(options: PiiKeyRingOptions) {
    const entries = options.keys instanceof Map ? [...options.keys] : Object.entries(options.keys);
    for (const [id, hex] of entries) {
      if (!KEY_ID.test(id)) throw new PiiKeyError(`PII key id "${id}" must be letters, digits, - or _`);
      this.#keys.set(id, keyFromHex(hex, `PII key "${id}"`));
    }
    if (!this.#keys.has(options.activeKeyId)) {
      throw new PiiKeyError(`PII_ACTIVE_KEY "${options.activeKeyId}" is not in the key ring`);
    }
    this.activeKeyId = options.activeKeyId;
    this.#hashKey = keyFromHex(options.hashKeyHex, 'PII_HASH_KEY');
    for (const [id, key] of this.#keys) {
      if (key.equals(this.#hashKey)) throw new PiiKeyError(`PII key "${id}" and PII_HASH_KEY must differ`);
    }
  }

  /**
   * The ring a deployment configured: PII_KEYS plus, under the id `legacy`, PII_ENCRYPTION_KEY
   * (so data sealed before the ring still opens). Active key: PII_ACTIVE_KEY, else the only
   * PII_KEYS entry, else `legacy`.
   */
  static fromConfig(cfg: PiiKeyConfig): PiiKeyRing {
    const keys = cfg.PII_KEYS ? parseKeyList(cfg.PII_KEYS) : new Map<string, string>();
    if (cfg.PII_ENCRYPTION_KEY && !keys.has(LEGACY_KEY_ID)) keys.set(LEGACY_KEY_ID, cfg.PII_ENCRYPTION_KEY);
    const listed = cfg.PII_KEYS ? [...parseKeyList(cfg.PII_KEYS).keys()] : [];
    const active = cfg.PII_ACTIVE_KEY ?? (listed.length === 1 ? listed[0]! : LEGACY_KEY_ID);
    if (!cfg.PII_ACTIVE_KEY && listed.length > 1) {
      throw new PiiKeyError('PII_ACTIVE_KEY must name one of the PII_KEYS when several are given');
    }
    return new PiiKeyRing({ keys, activeKeyId: active, hashKeyHex: cfg.PII_HASH_KEY });
  }

  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  /** The raw key, for code that seals with its own format (the journal before the ring). */
  keyBytes(id: string = this.activeKeyId): Buffer {
    const key = this.#keys.get(id);
    if (!key) throw new PiiKeyError(`PII key "${id}" is not in the key ring`);
    return key;
  }

  encrypt(plain: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keyBytes(), iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const id = Buffer.from(this.activeKeyId, 'ascii');
    return Buffer.concat([Buffer.from([V2, id.length]), id, iv, cipher.getAuthTag(), body]);
  }

  /** Id of the key that sealed `data` (`undefined` for a version-1 ciphertext: no id in it). */
  keyIdOf(data: Buffer): string | undefined {
    if (data[0] !== V2 || data.length < 2) return undefined;
    return data.subarray(2, 2 + data[1]!).toString('ascii');
  }

  /** True when `data` is not sealed by the active key (what `pii rotate` re-seals). */
  needsRotation(data: Buffer): boolean {
    return this.keyIdOf(data) !== this.activeKeyId;
  }

  /** Throws PiiKeyError if the data was tampered with, truncated, or sealed by a key not in the ring. */
  decrypt(data: Buffer): string {
    if (data[0] === V2 && data.length >= 2) {
      const idEnd = 2 + data[1]!;
      if (data.length < idEnd + IV_BYTES + TAG_BYTES)
        throw new PiiKeyError('not a PII ciphertext (truncated)');
      const id = data.subarray(2, idEnd).toString('ascii');
      const key = this.#keys.get(id);
      if (!key) throw new PiiKeyError(`PII ciphertext sealed by key "${id}", which is not in the key ring`);
      return this.#open(key, data.subarray(idEnd));
    }
    if (data[0] === V1 && data.length >= 1 + IV_BYTES + TAG_BYTES) return this.#openAny(data.subarray(1));
    throw new PiiKeyError('not a PII ciphertext (unknown version or truncated)');
  }

  /** Seals a line of text (journals): `enc2:<id>:<base64>`. */
  sealText(text: string): string {
    const data = this.encrypt(text);
    const body = data.subarray(2 + data[1]!);
    return `${TEXT_V2}${this.activeKeyId}:${body.toString('base64')}`;
  }

  static isSealedText(line: string): boolean {
    return line.startsWith(TEXT_V2) || line.startsWith(TEXT_V1);
  }

  /** Opens what sealText (or the journal before the ring, `enc:`) wrote; other text is returned as is. */
  openText(line: string): string {
    if (line.startsWith(TEXT_V2)) {
      const rest = line.slice(TEXT_V2.length);
      const sep = rest.indexOf(':');
      const id = rest.slice(0, Math.max(sep, 0));
      const key = this.#keys.get(id);
      if (!key) throw new PiiKeyError(`sealed line names key "${id}", which is not in the key ring`);
      return this.#open(key, Buffer.from(rest.slice(sep + 1), 'base64'));
    }
    if (line.startsWith(TEXT_V1)) return this.#openAny(Buffer.from(line.slice(TEXT_V1.length), 'base64'));
    return line;
  }

  /** Keyed lookup hash of the normalized number (32 bytes). The hash key does not rotate. */
  hash(plain: string): Buffer {
    return createHmac('sha256', this.#hashKey).update(normalizePhoneNumber(plain), 'utf8').digest();
  }

  #open(key: Buffer, ivTagBody: Buffer): string {
    if (ivTagBody.length < IV_BYTES + TAG_BYTES) throw new PiiKeyError('not a PII ciphertext (truncated)');
    try {
      return gcmOpen(
        key,
        ivTagBody.subarray(0, IV_BYTES),
        ivTagBody.subarray(IV_BYTES, IV_BYTES + TAG_BYTES),
        ivTagBody.subarray(IV_BYTES + TAG_BYTES),
      );
    } catch {
      throw new PiiKeyError('PII ciphertext does not authenticate (tampered, or sealed by another key)');
    }
  }

  #openAny(ivTagBody: Buffer): string {
    for (const key of this.#keys.values()) {
      try {
        return this.#open(key, ivTagBody);
      } catch {
        // GCM tag mismatch: not this key, try the next.
      }
    }
    throw new PiiKeyError('PII ciphertext opens with no key in the ring (tampered, or its key was removed)');
  }
}

/** One-key ring from the pre-ring pair of settings (tests, tools). */
export class PiiCipher extends PiiKeyRing {
  constructor(encryptionKeyHex: string, hashKeyHex: string) {
    keyFromHex(encryptionKeyHex, 'PII_ENCRYPTION_KEY');
    if (encryptionKeyHex.toLowerCase() === hashKeyHex.toLowerCase()) {
      throw new PiiKeyError('PII_ENCRYPTION_KEY and PII_HASH_KEY must differ');
    }
    super({ keys: { [LEGACY_KEY_ID]: encryptionKeyHex }, activeKeyId: LEGACY_KEY_ID, hashKeyHex });
  }
}
