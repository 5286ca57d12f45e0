import type { DestinationStream, Logger } from 'pino';
import { createLogger } from './logger.js';

/**
 * Where @livekit/agents keeps its logger: a global registry symbol (its log_core reads
 * `globalThis[Symbol.for('@livekit/agents:logger')]` on every `log()` call), so every copy of
 * the framework in the process shares one logger. Re-check on a framework upgrade.
 */
const FRAMEWORK_LOGGER = Symbol.for('@livekit/agents:logger');

/**
 * Puts our redacting logger (logger.ts) in the framework's place, after its initializeLogger.
 * The framework logs participant identities (`lk.pii.participant_identity`: `sip_+1555…` for a
 * phone caller), room names and SIP attributes as they are; through ours, phone numbers and
 * secrets are masked like in every other line. The framework's bindings (pid, job id, room id)
 * are kept. The worker calls it at start (with the shared executor that covers every call); a
 * job process of the process executor installs the framework's own logger again when its job
 * starts, so the agent's entry calls it once more — loggers the framework took before that
 * (the job runner's, JobContext's own) stay unredacted.
 */
export function redactFrameworkLogs(level: string, destination?: DestinationStream): Logger {
  const holder = globalThis as Record<symbol, unknown>;
  if (!holder[FRAMEWORK_LOGGER]) throw new Error('call initializeLogger() from @livekit/agents first');
  const previous = holder[FRAMEWORK_LOGGER] as Partial<Logger>;
  const bindings = typeof previous.bindings === 'function' ? previous.bindings() : {};
  const logger = createLogger({
    name: 'livekit-agents',
    level,
    ...(destination ? { destination } : {}),
  }).child(bindings);
  holder[FRAMEWORK_LOGGER] = logger;
  return logger;
}
