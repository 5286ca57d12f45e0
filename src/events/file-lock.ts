import { spawn } from 'node:child_process';

/**
 * An exclusive, OS-level lock on a file, held by a child `flock(1)` process (Node has no
 * flock). The child runs `cat` on a pipe from this process: when this process exits for any
 * reason — SIGKILL included — the pipe closes, `cat` ends, `flock` ends and the kernel drops
 * the lock. So a lock is free exactly when its holder is gone, whatever its PID was, with no
 * staleness timeout to tune (a lock file with O_EXCL would need heartbeats and could be stolen
 * from a live but paused process).
 */

const BUSY = 75;

export interface FileLock {
  readonly path: string;
  release(): Promise<void>;
}

/** Takes the lock if it is free right now; null when another process holds it. */
export function tryLockFile(path: string): Promise<FileLock | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'flock',
      ['-n', '-E', String(BUSY), path, 'sh', '-c', 'printf L; exec cat >/dev/null'],
      {
        stdio: ['pipe', 'pipe', 'ignore'],
      },
    );
    let settled = false;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.once('error', (err) => {
      if (!settled) {
        settled = true;
        reject(new Error(`cannot run flock(1) for ${path}: ${err.message}`));
      }
    });
    child.once('exit', (code) => {
      if (settled) return;
      settled = true;
      if (code === BUSY) resolve(null);
      else reject(new Error(`flock(1) on ${path} exited with ${code}`));
    });
    child.stdout.once('data', () => {
      if (settled) return;
      settled = true;
      // Neither the child nor its pipes may keep this process alive.
      child.unref();
      (child.stdout as unknown as { unref?: () => void }).unref?.();
      (child.stdin as unknown as { unref?: () => void }).unref?.();
      let released: Promise<void> | undefined;
      resolve({
        path,
        release: () => {
          released ??= (async () => {
            child.stdin.end();
            await exited;
          })();
          return released;
        },
      });
    });
  });
}
