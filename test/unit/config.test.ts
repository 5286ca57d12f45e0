import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEV_LIVEKIT_SECRET,
  DEV_PII_ENCRYPTION_KEY,
  DEV_PII_HASH_KEY,
  loadConfig,
} from '../../src/config/config.js';
import { DEV_DISPATCH_SIGNING_SECRET } from '../../src/config/secure-defaults.js';

describe('loadConfig', () => {
  it('defaults to the local stack and the offline providers', () => {
    const cfg = loadConfig({});
    expect(cfg.LIVEKIT_URL).toBe('ws://127.0.0.1:7880');
    expect(cfg.DATABASE_URL).toMatch(/^postgres:\/\/.*127\.0\.0\.1:5432\//);
    expect(cfg.resolvedProvider).toBe('local');
  });

  it('chooses openai when a key is present, unless OFFLINE is set', () => {
    expect(loadConfig({ OPENAI_API_KEY: 'sk-test' }).resolvedProvider).toBe('openai');
    expect(loadConfig({ OPENAI_API_KEY: 'sk-test', OFFLINE: '1' }).resolvedProvider).toBe('local');
  });

  it.each([
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ LIVEKIT_URL: 'not a url' }, 'LIVEKIT_URL'],
    [{ HTTP_PORT: '70000' }, 'HTTP_PORT'],
    [{ PII_ENCRYPTION_KEY: 'short' }, 'PII_ENCRYPTION_KEY'],
    [{ PROVIDER: 'openai' }, 'OPENAI_API_KEY'],
    [{ PROVIDER: 'carrier-pigeon' }, 'PROVIDER'],
    [{ SIP_RTP_PORT_START: '2000', SIP_RTP_PORT_END: '1000' }, 'SIP_RTP_PORT_END'],
  ])('rejects %o naming %s', (env, variable) => {
    try {
      loadConfig(env);
      expect.unreachable('should have thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).variable).toBe(variable);
      expect((err as Error).message).toMatch(new RegExp(`^Invalid configuration: ${variable} `));
      expect((err as Error).message.split('\n')).toHaveLength(1);
    }
  });

  describe('outside development mode', () => {
    const own = {
      VOICE_AGENT_DEV: '0',
      LIVEKIT_API_KEY: 'prod-key',
      LIVEKIT_API_SECRET: 'p'.repeat(40),
      PII_KEYS: `k1:${'ab'.repeat(32)}`,
      PII_HASH_KEY: 'cd'.repeat(32),
    };
    const refusal = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return undefined;
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).variable;
      }
    };

    it('is the default: NODE_ENV defaults to production', () => {
      expect(refusal({ VOICE_AGENT_DEV: '0' })).toBe('LIVEKIT_API_KEY');
      expect(loadConfig(own).developmentMode).toBe(false);
      expect(loadConfig({ ...own, VOICE_AGENT_DEV: '1' }).developmentMode).toBe(true);
      expect(loadConfig({ VOICE_AGENT_DEV: '0', NODE_ENV: 'development' }).developmentMode).toBe(true);
    });

    it.each([
      [{ LIVEKIT_API_KEY: 'devkey' }, 'LIVEKIT_API_KEY'],
      [{ LIVEKIT_API_SECRET: DEV_LIVEKIT_SECRET }, 'LIVEKIT_API_SECRET'],
      [{ PII_KEYS: '' }, 'PII_KEYS'],
      [{ PII_HASH_KEY: '' }, 'PII_HASH_KEY'],
      [{ PII_KEYS: `k1:${DEV_PII_ENCRYPTION_KEY}` }, 'PII_KEYS'],
      [{ PII_KEYS: '', PII_ENCRYPTION_KEY: DEV_PII_ENCRYPTION_KEY }, 'PII_ENCRYPTION_KEY'],
      [{ PII_HASH_KEY: DEV_PII_HASH_KEY }, 'PII_KEYS'],
      [{ DISPATCH_SIGNING_SECRET: DEV_DISPATCH_SIGNING_SECRET }, 'DISPATCH_SIGNING_SECRET'],
      [{ SIP_ALLOWED_ADDRESSES: '0.0.0.0/0' }, 'SIP_ALLOWED_ADDRESSES'],
      [{ SIP_ALLOWED_ADDRESSES: '10.0.0.0/8,::/0', SIP_AUTH_USERNAME: 'u' }, 'SIP_ALLOWED_ADDRESSES'],
    ])('refuses %o naming %s', (change, variable) => {
      expect(refusal({ ...own, ...change })).toBe(variable);
    });

    it('accepts an open trunk with digest auth, and own keys', () => {
      const cfg = loadConfig({
        ...own,
        SIP_ALLOWED_ADDRESSES: '0.0.0.0/0',
        SIP_AUTH_USERNAME: 'carrier',
        SIP_AUTH_PASSWORD: 'long-secret',
      });
      expect(cfg.OUTBOUND_ALLOWLIST).toBe('');
      expect(cfg.DISPATCH_SIGNING_SECRET).toBeUndefined();
      expect(cfg.HTTP_HOST).toBe('127.0.0.1');
    });
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ OPENAI_API_KEY: '' }).resolvedProvider).toBe('local');
  });
});
