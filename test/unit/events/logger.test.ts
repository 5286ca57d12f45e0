import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  createLogger,
  isSensitiveKey,
  PHONE_MASK,
  REDACTED,
  redactAttributes,
  safeUrl,
  scrubString,
} from '../../../src/observability/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const log = createLogger({ name: 'test', destination, level: 'debug' });
  return { lines, log, out: () => lines.join('') };
}

/** Every phone-number fragment and secret used below; none may appear in any output. */
const FORBIDDEN = [
  '5550102',
  '555) 010',
  '555-010',
  'hunter2',
  'sk-live-abc123',
  'lk-secret-xyz',
  's3cr3t-db',
  'redis-pass',
  'deadbeefcafe',
  'sip-digest-pw',
  'bearer-token-1',
];

function expectClean(out: string) {
  for (const secret of FORBIDDEN) expect(out, `leaked ${secret}`).not.toContain(secret);
}

describe('logger redaction', () => {
  it('redacts phone numbers and secrets by key, at the top level and nested', () => {
    const { log, out } = capture();
    log.info(
      {
        caller_number: '+15550102000',
        callerNumber: '+15550102001',
        phone: '+15550102002',
        from: '+15550102003',
        sip: { caller_number: '+15550102004', trunk_number: '+15550102005' },
        call: { sip: { callerNumber: '+15550102006', details: { deep: { phone_number: '+15550102007' } } } },
        db: { password: 'hunter2' },
        openai: { apiKey: 'sk-live-abc123', api_secret: 'lk-secret-xyz' },
        env: {
          OPENAI_API_KEY: 'sk-live-abc123',
          LIVEKIT_API_SECRET: 'lk-secret-xyz',
          PII_ENCRYPTION_KEY: 'deadbeefcafe',
          PII_HASH_KEY: 'deadbeefcafe',
          SIP_AUTH_PASSWORD: 'sip-digest-pw',
          SIP_OUTBOUND_PASSWORD: 'sip-digest-pw',
          PII_KEYS: 'k1:deadbeefcafe',
          DISPATCH_SIGNING_SECRET: 'dispatch-secret-pw',
          HTTP_BEARER_TOKEN: 'bearer-token-1',
        },
        headers: { Authorization: 'Bearer bearer-token-1' },
        list: [{ customer_phone: '+15550102008' }, { accessToken: 'bearer-token-1' }],
        room: 'room-1',
      },
      'call started',
    );
    const text = out();
    expectClean(text);
    const line = JSON.parse(text);
    // Non-sensitive fields survive untouched, and redacted keys stay visible as such.
    expect(line.room).toBe('room-1');
    expect(line.msg).toBe('call started');
    expect(line.caller_number).toBe(REDACTED);
    expect(line.from).toBe(REDACTED);
    expect(line.call.sip.details.deep.phone_number).toBe(REDACTED);
    expect(line.env.PII_ENCRYPTION_KEY).toBe(REDACTED);
    expect(line.env.PII_KEYS).toBe(REDACTED);
    expect(line.env.DISPATCH_SIGNING_SECRET).toBe(REDACTED);
    expect(line.list[0].customer_phone).toBe(REDACTED);
  });

  it("redacts SIP participant attributes, e.g. attributes['sip.phoneNumber']", () => {
    const { log, out } = capture();
    const attributes = {
      'sip.phoneNumber': '+15550102009',
      'sip.trunkPhoneNumber': '+15550100000',
      'sip.callID': 'SCL_abc123',
      'sip.callStatus': 'active',
      'sip.h.x-custom': 'from +1 (555) 010-2010',
    };
    log.info(
      { participant: { identity: 'sip_+15550102011', kind: 'SIP', attributes } },
      'participant joined',
    );
    const text = out();
    expectClean(text);
    const line = JSON.parse(text);
    expect(line.participant.attributes['sip.phoneNumber']).toBe(REDACTED);
    expect(line.participant.attributes['sip.callID']).toBe('SCL_abc123');
    expect(line.participant.attributes['sip.callStatus']).toBe('active');
    expect(line.participant.identity).toBe(`sip_${PHONE_MASK}`);

    const safe = redactAttributes(attributes);
    expect(safe['sip.phoneNumber']).toBe(REDACTED);
    expect(safe['sip.trunkPhoneNumber']).toBe(REDACTED);
    expect(safe['sip.callID']).toBe('SCL_abc123');
    expect(JSON.stringify(safe)).not.toContain('5550102');
    expect(attributes['sip.phoneNumber']).toBe('+15550102009'); // the input is not modified
    expect(redactAttributes(undefined)).toEqual({});
  });

  it('masks phone numbers hidden in other strings: room names, identities, messages, errors', () => {
    const { log, out } = capture();
    log.info({ room: 'call-+15550102012_AbCd', sipFromHeader: '"Ada" <sip:+15550102013@pbx>' }, 'joined');
    log.info('caller %s dialled in from %s', 'sip_15550102014', '+1 (555) 010-2015');
    log.warn({ n: 1 }, 'transfer of +15550102016 failed');
    log.error(new Error('no route to +15550102017'));
    log.error({
      err: new Error('lookup of 555-010-2018 failed'),
      extra: { nested: [new Error('+15550102019')] },
    });
    const child = log.child({ caller_number: '+15550102020', room: 'call-+15550102021_x' });
    child.info('child line');
    const text = out();
    expectClean(text);
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0].room).toBe(`call-${PHONE_MASK}_AbCd`);
    expect(lines[1].msg).toBe(`caller sip_${PHONE_MASK} dialled in from ${PHONE_MASK}`);
    expect(lines[3].msg).toBe(`no route to ${PHONE_MASK}`);
    expect(lines[3].err.type).toBe('Error');
    expect(lines[3].err.stack).toContain('logger.test.ts'); // errors keep their stack
    expect(lines[5].caller_number).toBe(REDACTED);
    expect(lines[5].room).toBe(`call-${PHONE_MASK}_x`);
    expect(lines[1].msg).not.toContain('+1 ');
  });

  it('removes passwords from connection URLs wherever they appear', () => {
    const { log, out } = capture();
    log.info(
      {
        DATABASE_URL: 'postgres://app:s3cr3t-db@db:5432/voice',
        config: {
          databaseUrl: 'postgres://app:s3cr3t-db@db:5432/voice',
          redis: 'redis://:redis-pass@cache:6379',
          odd: 'postgres://app:s3cr3t-db/with:colon@db/voice',
        },
      },
      'connecting to postgres://app:s3cr3t-db@db/voice',
    );
    const text = out();
    expectClean(text);
    const line = JSON.parse(text);
    expect(line.config.databaseUrl).toBe(REDACTED); // by key, whole
    expect(line.DATABASE_URL).toBe(REDACTED);
    expect(line.config.redis).toBe('redis://:***@cache:6379');
    expect(line.config.odd).toBe('postgres://app:***@db/voice');
    expect(line.msg).toBe('connecting to postgres://app:***@db/voice');
  });

  it('leaves ids, timestamps and ordinary numbers alone', () => {
    const keep = [
      '00000000-0000-0000-0000-000000000001',
      '6f1c2e4a-9b7d-4c3e-8a2b-123456789012',
      '2026-11-22T10:20:30.123+00:00',
      'b-0123456789abcdef0123456789abcdef01234567',
      '127.0.0.1:5432',
      'port 10999',
    ];
    for (const s of keep) expect(scrubString(s), s).toBe(s);
    const { log, out } = capture();
    log.info({ call_id: keep[1], duration_ms: 15550102000, turn: 3 }, 'ok');
    const line = JSON.parse(out());
    expect(line.call_id).toBe(keep[1]);
    expect(line.duration_ms).toBe(15550102000); // numbers are not strings: only keys apply
  });

  it('survives cycles and very deep objects without leaking', () => {
    const { log, out } = capture();
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    let deep: Record<string, unknown> = { phone: '+15550102022' };
    for (let i = 0; i < 30; i++) deep = { next: deep, note: '+15550102023' };
    log.info({ a, deep }, 'odd shapes');
    const text = out();
    expectClean(text);
    expect(JSON.parse(text).a.self).toBe('[Circular]');
  });

  it('classifies keys by name', () => {
    for (const k of [
      'sip.phoneNumber',
      'caller_number',
      'OPENAI_API_KEY',
      'x-api-key',
      'refresh_token',
      'from',
    ])
      expect(isSensitiveKey(k), k).toBe(true);
    for (const k of ['room', 'call_id', 'from_state', 'to_state', 'tokens_used', 'duration_ms'])
      expect(isSensitiveKey(k), k).toBe(false);
  });

  it('strips passwords from connection URLs (safeUrl)', () => {
    expect(safeUrl('postgres://app:s3cret@db:5432/voice')).toBe('postgres://app:***@db:5432/voice');
    expect(safeUrl('not a url')).toBe('[unparseable url]');
  });
});
