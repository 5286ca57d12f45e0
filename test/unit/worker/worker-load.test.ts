import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { processTree } from '../../../src/observability/proc-stats.js';
import { sleep } from '../../../src/util/async.js';
import { LoopUtilization, WorkerCpu, workerLoad } from '../../../src/worker/worker-load.js';

const roots: ChildProcess[] = [];
afterEach(() => {
  // Kill whole trees: an orphaned spinning grandchild would burn a core forever.
  for (const root of roots.splice(0)) {
    for (const pid of [...processTree(root.pid!).keys()].reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
});

function child(code: string): ChildProcess {
  const c = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  roots.push(c);
  return c;
}

describe('workerLoad', () => {
  it('is the larger of CPU share and calls / maximum, capped at 1', () => {
    expect(workerLoad(10, 40)).toBe(0.25);
    expect(workerLoad(10, 40, 0.6)).toBe(0.6);
    expect(workerLoad(50, 40, 0.2)).toBe(1);
  });
});

describe('WorkerCpu', () => {
  it("counts a busy process tree's CPU, children included, and not an idle one's", async () => {
    // A parent that idles and a child of it that spins (for 3 s at most): busy through the child.
    const parent = child(
      `require('node:child_process').spawn(process.execPath, ['-e', 'const end = Date.now() + 3000; while (Date.now() < end);'], { stdio: 'ignore' }); setInterval(() => {}, 1000);`,
    );
    const idle = child('setInterval(() => {}, 1000)');
    await sleep(300);
    const busyTree = new WorkerCpu(parent.pid);
    const idleTree = new WorkerCpu(idle.pid);
    expect(busyTree.read()).toBe(0); // the first reading starts the measurement
    idleTree.read();
    await sleep(1500);
    const cores = availableParallelism();
    // The spinning grandchild gets a good part of a core even on a busy machine.
    expect(busyTree.read() * cores).toBeGreaterThan(0.2);
    expect(idleTree.read() * cores).toBeLessThan(0.1);
  });
});

describe('LoopUtilization', () => {
  it('reads a blocked event loop as busy and an idle one as not', async () => {
    const loop = new LoopUtilization();
    await sleep(1100); // idle: waiting on a timer
    expect(loop.read()).toBeLessThan(0.5);
    const end = Date.now() + 1100;
    while (Date.now() < end); // the thread busy, as with too many calls
    const busy = loop.read();
    expect(busy).toBeGreaterThan(0.5);
    // Asked again at once (a call starting): the last reading, not a few-ms window.
    expect(loop.read()).toBe(busy);
  });
});
