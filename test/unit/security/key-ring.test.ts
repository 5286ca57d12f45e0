import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEV_PII_ENCRYPTION_KEY, DEV_PII_HASH_KEY } from '../../../src/config/config.js';
import {
  LEGACY_KEY_ID,
  PiiCipher,
  PiiKeyError,
  PiiKeyRing,
  parseKeyList,
} from '../../../src/persistence/pii.js';

const k1 = randomBytes(32).toString('hex');
const k2 = randomBytes(32).toString('hex');
const hashKeyHex = DEV_PII_HASH_KEY;

describe('PII key ring', () => {
  it('names the key in every ciphertext and opens old keys after the active one changes', () => {
    const old = new PiiKeyRing({ keys: { k1 }, activeKeyId: 'k1', hashKeyHex });
    const sealed = old.encrypt('+15550102000');
    expect(old.keyIdOf(sealed)).toBe('k1');
    const rotated = new PiiKeyRing({ keys: { k1, k2 }, activeKeyId: 'k2', hashKeyHex });
    expect(rotated.decrypt(sealed)).toBe('+15550102000');
    expect(rotated.needsRotation(sealed)).toBe(true);
    const fresh = rotated.encrypt('José García');
    expect(rotated.keyIdOf(fresh)).toBe('k2');
    expect(rotated.needsRotation(fresh)).toBe(false);
    expect(rotated.decrypt(fresh)).toBe('José García');
  });

  it('still opens version-1 ciphertexts written before the ring (no key id)', async () => {
    // A version-1 ciphertext, built the way the pre-ring cipher did: 0x01 | IV | tag | body.
    const { createCipheriv } = await import('node:crypto');
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', Buffer.from(DEV_PII_ENCRYPTION_KEY, 'hex'), iv);
    const body = Buffer.concat([c.update('+15550102000', 'utf8'), c.final()]);
    const v1 = Buffer.concat([Buffer.from([1]), iv, c.getAuthTag(), body]);
    const ring = PiiKeyRing.fromConfig({
      PII_ENCRYPTION_KEY: DEV_PII_ENCRYPTION_KEY,
      PII_HASH_KEY: hashKeyHex,
      PII_KEYS: `k2:${k2}`,
      PII_ACTIVE_KEY: 'k2',
    });
    expect(ring.keyIds.sort()).toEqual(['k2', LEGACY_KEY_ID]);
    expect(ring.decrypt(v1)).toBe('+15550102000');
    expect(ring.keyIdOf(v1)).toBeUndefined();
    expect(ring.needsRotation(v1)).toBe(true);
  });

  it('refuses data sealed by a key not in the ring, naming the key id', () => {
    const a = new PiiKeyRing({ keys: { k1 }, activeKeyId: 'k1', hashKeyHex });
    const b = new PiiKeyRing({ keys: { k2 }, activeKeyId: 'k2', hashKeyHex });
    expect(() => b.decrypt(a.encrypt('x'))).toThrow(/key "k1", which is not in the key ring/);
    const flipped = a.encrypt('x');
    flipped[flipped.length - 1]! ^= 1;
    expect(() => a.decrypt(flipped)).toThrow(PiiKeyError);
  });

  it('seals journal lines with the key id and reads the pre-ring `enc:` lines', () => {
    const ring = new PiiKeyRing({ keys: { k1, k2 }, activeKeyId: 'k1', hashKeyHex });
    const line = ring.sealText('{"a":1}');
    expect(line).toMatch(/^enc2:k1:/);
    const later = new PiiKeyRing({ keys: { k1, k2 }, activeKeyId: 'k2', hashKeyHex });
    expect(later.openText(line)).toBe('{"a":1}');
    expect(later.openText('{"plain":true}')).toBe('{"plain":true}');
  });

  it('hashes with the hash key whatever the active encryption key', () => {
    const a = new PiiKeyRing({ keys: { k1 }, activeKeyId: 'k1', hashKeyHex });
    const b = new PiiKeyRing({ keys: { k2 }, activeKeyId: 'k2', hashKeyHex });
    expect(a.hash('+1 555 010 2000').equals(b.hash('+15550102000'))).toBe(true);
    expect(
      new PiiCipher(DEV_PII_ENCRYPTION_KEY, hashKeyHex).hash('+15550102000').equals(a.hash('+15550102000')),
    ).toBe(true);
  });

  it('parses PII_KEYS and rejects bad entries without printing a key', () => {
    expect([...parseKeyList(` a:${k1}, b-2:${k2} `).keys()]).toEqual(['a', 'b-2']);
    expect(() => parseKeyList(`a:${k1},a:${k2}`)).toThrow(/twice/);
    expect(() => parseKeyList('nocolon')).toThrow(/entry 1 must be "id:hex"/);
    try {
      parseKeyList('a:abc123');
    } catch (err) {
      expect((err as Error).message).toMatch(/PII_KEYS key "a" must be 64 hex/);
      expect((err as Error).message).not.toContain('abc123');
    }
    expect(() => PiiKeyRing.fromConfig({ PII_HASH_KEY: hashKeyHex, PII_KEYS: `a:${k1},b:${k2}` })).toThrow(
      /PII_ACTIVE_KEY must name one/,
    );
    expect(() =>
      PiiKeyRing.fromConfig({ PII_HASH_KEY: hashKeyHex, PII_KEYS: `a:${k1}`, PII_ACTIVE_KEY: 'zz' }),
    ).toThrow(/"zz" is not in the key ring/);
    expect(PiiKeyRing.fromConfig({ PII_HASH_KEY: hashKeyHex, PII_KEYS: `a:${k1}` }).activeKeyId).toBe('a');
  });
});
