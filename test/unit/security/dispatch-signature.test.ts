import { describe, expect, it } from 'vitest';
import { signDispatchMetadata, trustedMetadata } from '../../../src/worker/dispatch-signature.js';
import { parseJobMetadata } from '../../../src/worker/job-metadata.js';

const secret = 'control-plane-secret-0123456789abcdef';
const room = 'call-out-abc';
const meta = { flow: 'survey', dial: { number: '+15550102000' }, now: '2025-03-05T15:00:00Z' };

/** What the worker sees: the metadata string as dispatched, parsed and verified. */
const received = (json: unknown, options: { room?: string; nowMs?: number; key?: string } = {}) =>
  trustedMetadata(parseJobMetadata(JSON.stringify(json)), {
    secret: options.key ?? secret,
    room: options.room ?? room,
    ...(options.nowMs ? { nowMs: options.nowMs } : {}),
  });

describe('signed dispatch metadata', () => {
  it('honours dial and now signed by the control plane for this room', () => {
    const r = received(signDispatchMetadata(meta, { secret, room }));
    expect(r.ignored).toEqual([]);
    expect(r.metadata).toEqual(meta);
  });

  it.each([
    ['unsigned', meta, {}, 'unsigned'],
    [
      'signed for another room',
      signDispatchMetadata(meta, { secret, room: 'call-other' }),
      {},
      'signed for another room',
    ],
    [
      'signed with another secret',
      signDispatchMetadata(meta, { secret: 'x'.repeat(40), room }),
      {},
      'bad signature',
    ],
    [
      'replayed after ten minutes',
      signDispatchMetadata(meta, { secret, room }),
      { nowMs: Date.now() + 11 * 60_000 },
      'signature expired',
    ],
  ])('ignores dial and now when %s, keeps the flow', (_what, json, options, reason) => {
    const r = received(json, options);
    expect(r.ignored).toEqual(['dial', 'now']);
    expect(r.reason).toBe(reason);
    expect(r.metadata).toEqual({ flow: 'survey' });
  });

  it('detects a number changed after signing', () => {
    const signed = signDispatchMetadata(meta, { secret, room });
    const forged = { ...signed, dial: { number: '+19005550100' } };
    expect(received(forged).reason).toBe('bad signature');
  });

  it('needs no signature without trusted fields, and refuses to sign without a secret', () => {
    expect(received({ flow: 'survey' })).toEqual({ metadata: { flow: 'survey' }, ignored: [] });
    expect(() => signDispatchMetadata(meta, { secret: undefined, room })).toThrow(/DISPATCH_SIGNING_SECRET/);
  });
});
