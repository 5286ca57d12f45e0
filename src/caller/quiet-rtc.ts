import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * @livekit/rtc-node logs at debug level unless NODE_ENV=production (e.g. a line per ignored
 * data stream, several per second per room), and does not export its logger. Participants we
 * run in-process (demo caller, tests, benchmarks) lower it through the module's own file.
 */
export function quietRtcLogs(level = process.env.RTC_LOG_LEVEL ?? 'warn'): void {
  try {
    const require = createRequire(import.meta.url);
    const entry = require.resolve('@livekit/rtc-node');
    const mod = require(join(dirname(entry), 'log.cjs')) as { log?: { level: string } };
    if (mod.log) mod.log.level = level;
  } catch {
    // a different package layout: keep its default level
  }
}
