// Tests run against the local stack and its public dev keys: development mode, explicitly
// (also for CLI processes the tests spawn, which inherit this environment).
process.env.VOICE_AGENT_DEV ??= '1';

import { quietRtcLogs } from '../src/caller/quiet-rtc.js';

// rtc-node participants in test processes would otherwise log every data stream at debug.
quietRtcLogs();
