import { describe, expect, it } from 'vitest';
import {
  API_KEY_PREFIX,
  generateApiKey,
  hashApiKey,
  parsePermissions,
} from '../../../src/control/api-keys.js';
import {
  generatePassword,
  hashPassword,
  SCRYPT_PARAMS,
  verifyPassword,
} from '../../../src/control/passwords.js';

describe('passwords', () => {
  it('hashes with scrypt and its parameters, salted, and verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(
      new RegExp(`^scrypt\\$${SCRYPT_PARAMS.N}\\$${SCRYPT_PARAMS.r}\\$${SCRYPT_PARAMS.p}\\$`),
    );
    expect(a).not.toBe(b);
    expect(a).not.toContain('horse');
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('correct horse battery', 'md5$abc')).toBe(false);
  });

  it('treats composed and decomposed accents as the same password', async () => {
    const hash = await hashPassword('José García 2030');
    expect(await verifyPassword('Jose\u0301 Garci\u0301a 2030', hash)).toBe(true);
  });

  it('refuses short passwords and generates long ones', async () => {
    await expect(hashPassword('short')).rejects.toThrow(/at least 12/);
    expect(generatePassword().length).toBeGreaterThanOrEqual(24);
  });
});

describe('API keys', () => {
  it('are random, prefixed, and stored only as a SHA-256 that matches the key', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.key.startsWith(API_KEY_PREFIX)).toBe(true);
    expect(a.key).not.toBe(b.key);
    expect(a.key.startsWith(a.prefix)).toBe(true);
    expect(a.hash.equals(hashApiKey(a.key))).toBe(true);
    expect(a.hash.equals(hashApiKey(b.key))).toBe(false);
    expect(a.key.length - a.prefix.length).toBeGreaterThan(32);
  });

  it('accepts known permissions and names an unknown one', () => {
    expect(parsePermissions('calls:read, routes:write')).toEqual(['calls:read', 'routes:write']);
    expect(() => parsePermissions('calls:read,root')).toThrow(/unknown permission "root"/);
  });
});
