import { defineAgent } from '@livekit/agents';
import { probeEntry } from './probe.js';

/** The framework floor: no prewarm work, nothing imported beyond @livekit/agents. */
export default defineAgent({ entry: probeEntry });
