/**
 * The conversation engine: declarative flows (defineFlow), rule-based extraction with
 * optional LLM assist, records for every transition and slot, the flow package contract.
 * Flows themselves live in agents/.
 */

/** The organization calls belong to unless their route names another (migration 001 creates it). */
export { DEFAULT_ORGANIZATION_ID } from '../events/model.js';
export * from './clock.js';
export { ConversationEngine, createEngine, type EngineOptions, type EngineSnapshot } from './engine.js';
export { completesTurnIn, expectationOf } from './expectation.js';
export * from './extract/index.js';
export { DEFAULT_LIMITS, DEFAULT_MESSAGES, defineFlow, FlowDefinitionError, slot, slotDefs } from './flow.js';
export {
  type AnyFlowPackage,
  defineFlowPackage,
  type FlowCreateContext,
  type FlowDemo,
  type FlowPackage,
  type FlowRecordType,
  type FlowResourceContext,
  type FlowResources,
  type FlowScripts,
  parseFlowSettings,
  type RecordRow,
} from './flow-package.js';
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
