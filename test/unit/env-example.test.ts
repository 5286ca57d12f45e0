import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { envSchema } from '../../src/config/config.js';

const root = join(import.meta.dirname, '../..');

describe('documentation matches the code', () => {
  it('.env.example documents exactly the variables the config reads', () => {
    const documented = readFileSync(join(root, '.env.example'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => l.split('=')[0]);
    expect(new Set(documented)).toEqual(new Set(Object.keys(envSchema.shape)));
  });

  it('docker-compose.yml has the whole stack with pinned images', () => {
    const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { image?: string; build?: unknown; command?: string[] }>;
    };
    const names = Object.keys(compose.services);
    for (const s of ['livekit-server', 'livekit-sip', 'redis', 'timescaledb', 'worker', 'persister']) {
      expect(names).toContain(s);
    }
    for (const [name, svc] of Object.entries(compose.services)) {
      if (svc.build) continue;
      expect(svc.image, name).toMatch(/:[v0-9][\w.-]*$/);
      expect(svc.image, name).not.toMatch(/:latest$/);
    }
    expect(compose.services['livekit-server']?.image).toBe('livekit/livekit-server:v1.13.5');
  });
});
