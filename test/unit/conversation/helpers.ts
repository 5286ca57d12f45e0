import { createAppointmentBookingFlow, FakeBookingStore } from '../../../agents/appointment-booking/index.js';
import {
  ConversationEngine,
  type EngineOptions,
  type EngineReply,
  type Flow,
  RecordingObserver,
} from '../../../src/conversation/index.js';
import { seededRandom } from '../../../src/util/random.js';

export { seededRandom };

/** Wednesday 5 March 2025, 10:00 in New York (the clinic's zone). */
export const NOW = new Date('2025-03-05T15:00:00Z');
export const TZ = 'America/New_York';

export interface Harness {
  engine: ConversationEngine;
  store: FakeBookingStore;
  rec: RecordingObserver;
  flow: Flow;
  replies: EngineReply[];
  /** Feeds caller steps in order; returns the last reply. */
  say(...steps: Step[]): Promise<EngineReply>;
}

export type Step = string | { dtmf: string } | { timeout: true };

export async function bookingCall(
  options: {
    store?: FakeBookingStore;
    now?: Date;
    engine?: Partial<EngineOptions>;
    transferOnFallback?: boolean;
  } = {},
): Promise<Harness> {
  const store = options.store ?? new FakeBookingStore();
  const rec = new RecordingObserver();
  const flow = createAppointmentBookingFlow({
    store,
    transferOnFallback: options.transferOnFallback ?? false,
  });
  const now = options.now ?? NOW;
  const engine = new ConversationEngine(flow, {
    now: () => now,
    timeZone: TZ,
    random: seededRandom(7),
    observer: rec,
    callId: '11111111-1111-4111-8111-111111111111',
    ...options.engine,
  });
  const replies: EngineReply[] = [await engine.start()];
  const h: Harness = {
    engine,
    store,
    rec,
    flow,
    replies,
    async say(...steps) {
      for (const s of steps) {
        const r =
          typeof s === 'string'
            ? await engine.handleUserText(s)
            : 'dtmf' in s
              ? await engine.handleDtmf(s.dtmf)
              : await engine.handleTimeout();
        replies.push(r);
      }
      return replies[replies.length - 1]!;
    },
  };
  return h;
}

export const lastText = (h: Harness) => h.replies[h.replies.length - 1]?.text ?? '';
