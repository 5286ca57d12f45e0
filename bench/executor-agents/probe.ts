import type { JobContext } from '@livekit/agents';

/**
 * The job side of bench/executors.ts. The benchmark talks to the job process over the same
 * IPC channel as the framework, with message cases the framework ignores:
 * - `benchPing` → `benchPong { enteredAt }`: when (epoch ms, sub-ms precision) the job entry
 *   function started; the benchmark polls, since pings sent before the entry runs go unheard;
 * - `benchEnd`: the entry asks the framework to shut the job down (the process then exits,
 *   as after every job: job processes are never reused).
 *
 * The listener is added in the entry, never at import: Node queues IPC messages only until a
 * process has its first 'message' listener, and the framework's initializeRequest arrives
 * while the agent module is still being imported; an early listener would swallow it.
 */
export async function probeEntry(ctx: JobContext): Promise<void> {
  const enteredAt = performance.timeOrigin + performance.now();
  await new Promise<void>((resolve) => {
    process.on('message', (msg: { case?: string }) => {
      if (msg?.case === 'benchPing') process.send?.({ case: 'benchPong', value: { enteredAt } });
      else if (msg?.case === 'benchEnd') resolve();
    });
  });
  ctx.shutdown('benchmark done');
}
