import { Writable } from 'node:stream';
import { initializeLogger, log } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import { redactFrameworkLogs } from '../../../src/observability/framework-logs.js';

describe('redactFrameworkLogs', () => {
  it("masks callers' numbers and secrets in the framework's own log lines", () => {
    initializeLogger({ pretty: false, level: 'info' });
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    redactFrameworkLogs('info', sink);
    // What the framework logs, e.g. in JobContext and RoomIO, through its log() accessor.
    log()
      .child({ 'lk.pii.room_name': 'call-+15550001111_abc' })
      .info({ 'lk.pii.participant_identity': 'sip_+15557654321', apiSecret: 's3cr3t' }, 'participant joined');
    const text = lines.join('');
    expect(text).toMatch(/participant joined/);
    expect(text).not.toMatch(/5557654321|5550001111|s3cr3t/);
    expect(text).toMatch(/sip_\[phone\]/);
  });
});
