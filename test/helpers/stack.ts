import { loadConfig } from '../../src/config/config.js';

/** The running local stack's coordinates; tests fail (not skip) when it is not up. */
export const cfg = loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
export const livekitHttpUrl = cfg.LIVEKIT_URL.replace(/^ws/, 'http');
