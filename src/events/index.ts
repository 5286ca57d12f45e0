export { DEFAULT_HEARTBEAT_INTERVAL_MS, type HeartbeatCall, startCallHeartbeat } from './heartbeat.js';
export {
  DEFAULT_ORGANIZATION_ID,
  type MakeEventOptions,
  makeEvent,
  organizationOf,
  type ParseResult,
  parseEvent,
} from './model.js';
export * from './schemas.js';
export { CountingSink, type EventSink, MemoryEventSink, NullEventSink } from './sink.js';
