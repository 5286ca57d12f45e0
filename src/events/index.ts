export {
  DEFAULT_ORGANIZATION_ID,
  type MakeEventOptions,
  makeEvent,
  organizationOf,
  type ParseResult,
  parseEvent,
} from './model.js';
export * from './schemas.js';
export { type EventSink, MemoryEventSink, NullEventSink } from './sink.js';
