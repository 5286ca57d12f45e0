import { describe, expect, it } from 'vitest';
import { ConfigError, DEV_LIVEKIT_SECRET, loadConfig } from '../../src/config/config.js';

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

  it('refuses dev secrets in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/PII_ENCRYPTION_KEY/);
    const key = 'ab'.repeat(32);
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        PII_ENCRYPTION_KEY: key,
        PII_HASH_KEY: key,
        LIVEKIT_API_SECRET: DEV_LIVEKIT_SECRET,
      }),
    ).toThrow(/LIVEKIT_API_SECRET/);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ OPENAI_API_KEY: '' }).resolvedProvider).toBe('local');
  });
});
