import type { Worker } from 'bullmq';

/**
 * Runs a package's BullMQ worker as a CLI process: logs each job's end (ids and outcomes, never
 * job data), and on SIGINT/SIGTERM lets running jobs finish, closes what it holds, and exits.
 */
export async function serveQueueWorker(
  label: string,
  worker: Worker,
  close: () => Promise<unknown>,
): Promise<never> {
  worker.on('failed', (job, err) => console.error(`${label} ${job?.id ?? '?'} failed: ${err.message}`));
  worker.on('completed', (job, result) => console.log(`${label} ${job.id} ${JSON.stringify(result)}`));
  console.log(`${label} worker ready`);
  const stop = async () => {
    await worker.close();
    await close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return new Promise<never>(() => undefined);
}
