import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEV_PII_ENCRYPTION_KEY, DEV_PII_HASH_KEY } from '../../../src/config/config.js';
import { normalizePhoneNumber, PiiCipher } from '../../../src/persistence/pii.js';

const cipher = new PiiCipher(DEV_PII_ENCRYPTION_KEY, DEV_PII_HASH_KEY);

describe('PII encryption', () => {
  it('round-trips any text and never repeats a ciphertext', () => {
    fc.assert(
      fc.property(fc.string(), (plain) => {
        const a = cipher.encrypt(plain);
        const b = cipher.encrypt(plain);
        expect(a.equals(b)).toBe(false); // fresh IV each time
        expect(cipher.decrypt(a)).toBe(plain);
      }),
      { numRuns: 200 },
    );
  });

  it('does not contain the number in clear', () => {
    const data = cipher.encrypt('+15550102000');
    expect(data.toString('latin1')).not.toContain('5550102000');
    expect(data.toString('hex')).not.toContain(Buffer.from('5550102000').toString('hex'));
  });

  it('detects tampering and wrong keys', () => {
    const data = cipher.encrypt('+15550102000');
    const flipped = Buffer.from(data);
    flipped[flipped.length - 1]! ^= 1;
    expect(() => cipher.decrypt(flipped)).toThrow();
    const other = new PiiCipher(randomBytes(32).toString('hex'), DEV_PII_HASH_KEY);
    expect(() => other.decrypt(data)).toThrow();
    expect(() => cipher.decrypt(Buffer.from([9, 1, 2]))).toThrow(/not a PII ciphertext/);
  });

  it('hashes equal numbers equally whatever their formatting, and with the key', () => {
    const h = cipher.hash('+1 (555) 010-2000');
    expect(h).toHaveLength(32);
    expect(cipher.hash('sip:+15550102000@pbx.example;user=phone').equals(h)).toBe(true);
    expect(cipher.hash('tel:+1-555-010-2000').equals(h)).toBe(true);
    expect(cipher.hash('+15550102001').equals(h)).toBe(false);
    const otherKey = new PiiCipher(DEV_PII_ENCRYPTION_KEY, randomBytes(32).toString('hex'));
    expect(otherKey.hash('+15550102000').equals(h)).toBe(false);
  });

  it('normalizes numbers and keeps non-numbers stable', () => {
    expect(normalizePhoneNumber(' +44 20 7946 0958 ')).toBe('+442079460958');
    expect(normalizePhoneNumber('sips:1001@10.0.0.1')).toBe('1001');
    expect(normalizePhoneNumber('Anonymous')).toBe('anonymous');
  });

  it('refuses malformed or identical keys', () => {
    expect(() => new PiiCipher('abc', DEV_PII_HASH_KEY)).toThrow(/PII_ENCRYPTION_KEY must be 64 hex/);
    expect(() => new PiiCipher(DEV_PII_ENCRYPTION_KEY, DEV_PII_ENCRYPTION_KEY)).toThrow(/must differ/);
  });
});
