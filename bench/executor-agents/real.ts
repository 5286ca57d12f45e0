import { defineAgent } from '@livekit/agents';
import worker from '../../src/worker/agent.js';
import { probeEntry } from './probe.js';

/**
 * The production agent module (src/worker/agent.ts: its whole import graph, and its prewarm,
 * which loads the silero VAD), with the entry replaced by the benchmark probe so no LiveKit
 * room is needed.
 */
export default defineAgent({
  ...(worker.prewarm ? { prewarm: worker.prewarm } : {}),
  entry: probeEntry,
});
