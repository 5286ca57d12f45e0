import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, safeUrl } from '../../../src/observability/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, destination };
}

describe('logger redaction', () => {
  it('never writes phone numbers or secrets', () => {
    const { lines, destination } = capture();
    const log = createLogger({ name: 'test', destination, level: 'info' });
    log.info(
      {
        caller_number: '+15550102000',
        callerNumber: '+15550102001',
        phone: '+15550102002',
        sip: { caller_number: '+15550102003', trunk_number: '+15550102004' },
        call: { sip: { callerNumber: '+15550102005' } },
        db: { password: 'hunter2' },
        openai: { apiKey: 'sk-secret', api_secret: 'also-secret' },
        room: 'room-1',
      },
      'call started',
    );
    const out = lines.join('');
    expect(out).toContain('room-1');
    expect(out).toContain('[redacted]');
    for (const secret of ['55501020', 'hunter2', 'sk-secret', 'also-secret'])
      expect(out).not.toContain(secret);
  });

  it('strips passwords from connection URLs', () => {
    expect(safeUrl('postgres://app:s3cret@db:5432/voice')).toBe('postgres://app:***@db:5432/voice');
    expect(safeUrl('not a url')).toBe('[unparseable url]');
  });
});
