import { persistOldestFailingBatchSeconds } from '../observability/metrics.js';

/**
 * Batches this persister saw fail and not yet succeed, by job id, with when they first
 * failed: voice_agent_persist_oldest_failing_batch_seconds is the age of the oldest (0 when
 * none), the number to alert on when Postgres stays away or a batch keeps failing.
 */
export class FailingBatches {
  readonly #since = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(refreshMs = 5000) {
    this.#timer = setInterval(() => this.#publish(), refreshMs);
    this.#timer.unref();
  }

  failed(jobId: string | undefined, at = Date.now()): void {
    if (jobId && !this.#since.has(jobId)) this.#since.set(jobId, at);
    this.#publish();
  }

  settled(jobId: string | undefined): void {
    if (jobId && this.#since.delete(jobId)) this.#publish();
  }

  oldestAgeSeconds(now = Date.now()): number {
    let oldest = now;
    for (const at of this.#since.values()) oldest = Math.min(oldest, at);
    return (now - oldest) / 1000;
  }

  #publish(): void {
    persistOldestFailingBatchSeconds.set(this.oldestAgeSeconds());
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#since.clear();
    this.#publish();
  }
}
