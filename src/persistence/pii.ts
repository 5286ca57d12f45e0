import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * Caller numbers are personal data. They are stored as AES-256-GCM ciphertext (readable only
 * with PII_ENCRYPTION_KEY) next to an HMAC-SHA256 under a separate PII_HASH_KEY, which lets us
 * find every call from one number (support, erasure requests) without decrypting anything and
 * without the hash being reversible by brute force over the small space of phone numbers.
 *
 * Ciphertext layout: version byte (1) | 12-byte IV | 16-byte auth tag | ciphertext.
 */

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

function keyFromHex(hex: string, name: string): Buffer {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error(`${name} must be 64 hex characters (32 bytes)`);
  return Buffer.from(hex, 'hex');
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

export class PiiCipher {
  readonly #encKey: Buffer;
  readonly #hashKey: Buffer;

  constructor(encryptionKeyHex: string, hashKeyHex: string) {
    this.#encKey = keyFromHex(encryptionKeyHex, 'PII_ENCRYPTION_KEY');
    this.#hashKey = keyFromHex(hashKeyHex, 'PII_HASH_KEY');
    if (this.#encKey.equals(this.#hashKey)) {
      throw new Error('PII_ENCRYPTION_KEY and PII_HASH_KEY must differ');
    }
  }

  encrypt(plain: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#encKey, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
  }

  /** Throws if the data was tampered with or encrypted under another key. */
  decrypt(data: Buffer): string {
    if (data.length < 1 + IV_BYTES + TAG_BYTES || data[0] !== VERSION) {
      throw new Error('not a PII ciphertext (unknown version or truncated)');
    }
    const iv = data.subarray(1, 1 + IV_BYTES);
    const tag = data.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.#encKey, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([
      decipher.update(data.subarray(1 + IV_BYTES + TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  }

  /** Keyed lookup hash of the normalized number (32 bytes). */
  hash(plain: string): Buffer {
    return createHmac('sha256', this.#hashKey).update(normalizePhoneNumber(plain), 'utf8').digest();
  }
}
