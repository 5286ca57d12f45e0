import { describe, expect, it } from 'vitest';
import { runChaos } from '../../../bench/chaos.js';

/**
 * The short version of `npm run bench:chaos`: real scratch Postgres and Redis, the real
 * producer and persister as separate processes, two faults. Needs dist/ (npm test builds it).
 */
describe('chaos (quick)', () => {
  it('loses and duplicates nothing through a Redis restart and a network cut', async () => {
    const results = await runChaos({
      faults: ['redis-restart', 'network-cut'],
      calls: 3,
      phaseMs: 8000,
      faultAtMs: 2500,
    });
    expect(results.map((r) => r.type)).toEqual(['redis-restart', 'network-cut']);
    for (const r of results) {
      expect(r.emitted, r.type).toBeGreaterThan(100);
      expect({ type: r.type, lost: r.lost, duplicated: r.duplicated }).toEqual({
        type: r.type,
        lost: 0,
        duplicated: 0,
      });
      expect(r.callsReconciled, r.type).toBe(r.calls);
    }
  }, 170_000);
});
