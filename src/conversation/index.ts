/**
 * The conversation engine: declarative flows (defineFlow), rule-based extraction with
 * optional LLM assist, records for every transition and slot, booking stores.
 * Flows themselves live in agents/.
 */

/** The organization bookings belong to unless a store is given another (migration 001 creates it). */
export { DEFAULT_ORGANIZATION_ID } from '../events/model.js';
export { FakeBookingStore } from './booking/fake-store.js';
export { PgBookingStore, type PgBookingStoreOptions } from './booking/pg-store.js';
export {
  appointmentRecord,
  type Booking,
  type BookingStatus,
  type BookingStore,
  type BookResult,
  bookWithFreshCode,
  type NewBooking,
  type RescheduleResult,
} from './booking/store.js';
export { BusinessHours, type BusinessHoursConfig, DEFAULT_HOURS } from './business-hours.js';
export * from './clock.js';
export { ConversationEngine, createEngine, type EngineOptions, type EngineSnapshot } from './engine.js';
export * from './extract/index.js';
export { DEFAULT_LIMITS, DEFAULT_MESSAGES, defineFlow, FlowDefinitionError, slot, slotDefs } from './flow.js';
export { type DomainLanguage, domainLanguage } from './language.js';
export {
  type LlmAssist,
  type PhraseContext,
  type ProposeRequest,
  type SlotProposal,
  type ToolDefinition,
  toolsFor,
} from './llm.js';
export {
  type EnginePort,
  type PortAction,
  type PortReply,
  type PortTransition,
  toConversationPort,
  toPortAction,
} from './port.js';
export { eventsObserver, RecordingObserver } from './recording.js';
export * from './speech.js';
export type * from './types.js';
