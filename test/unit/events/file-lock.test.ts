import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tryLockFile } from '../../../src/events/file-lock.js';

describe('tryLockFile (flock(1) child)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lock-'));

  it('is exclusive while held and free once released', async () => {
    const path = join(dir, 'a.lock');
    const a = await tryLockFile(path);
    expect(a).not.toBeNull();
    expect(await tryLockFile(path)).toBeNull();
    await a?.release();
    const c = await tryLockFile(path);
    expect(c).not.toBeNull();
    await c?.release();
  });

  it('is freed by the kernel when its holder is SIGKILLed', async () => {
    const path = join(dir, 'b.lock');
    // The holder does what tryLockFile does (a flock child on a pipe), in plain Node.
    const script = `const { spawn } = require('node:child_process');
      const c = spawn('flock', ['-n', ${JSON.stringify(path)}, 'sh', '-c', 'printf L; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'ignore'] });
      c.stdout.once('data', () => console.log('held')); setInterval(() => {}, 1000);`;
    const holder = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const held = await new Promise<string>((resolve) =>
      holder.stdout.once('data', (d) => resolve(String(d))),
    );
    expect(held).toContain('held');
    expect(await tryLockFile(path)).toBeNull();
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    let lock = null;
    for (let i = 0; i < 50 && !lock; i++) {
      lock = await tryLockFile(path);
      if (!lock) await new Promise((r) => setTimeout(r, 50));
    }
    expect(lock).not.toBeNull();
    await lock?.release();
  }, 20_000);
});
