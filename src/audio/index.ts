export * from './clip.js';
export * from './level.js';
export * from './mulaw.js';
export * from './pcm.js';
export * from './resample.js';
export * from './wav.js';
