import { quietRtcLogs } from '../src/caller/quiet-rtc.js';

// rtc-node participants in test processes would otherwise log every data stream at debug.
quietRtcLogs();
