import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const cli = join(import.meta.dirname, '../../../dist/src/cli/main.js');

describe('voice-agent stack', () => {
  it('status reports every component healthy while the stack is up', async () => {
    const { stdout } = await run('node', [cli, 'stack', 'status', '--json']);
    const rows = JSON.parse(stdout) as { name: string; healthy: boolean }[];
    expect(rows.map((r) => r.name)).toEqual(['postgres', 'redis', 'livekit-server', 'livekit-sip']);
    expect(rows.every((r) => r.healthy)).toBe(true);
  });

  it('refuses with one clear line when its port is taken by a process it did not start', async () => {
    // A second stack directory owns nothing, so the running LiveKit server is "someone else's".
    const otherDir = mkdtempSync(join(tmpdir(), 'va-stack-'));
    const err = await run('node', [cli, 'stack', 'up'], {
      env: { ...process.env, STACK_DIR: otherDir },
    }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr.trim()).toMatch(/^voice-agent: port 7880 is taken by another process/);
  });

  it('names the variable when the configuration is invalid', async () => {
    const err = await run('node', [cli, 'stack', 'status'], {
      env: { ...process.env, REDIS_URL: 'http://x' },
    }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr.trim()).toBe(
      'voice-agent: Invalid configuration: REDIS_URL must be a URL starting with redis:// or rediss://',
    );
  });
});
