import { randomUUID } from 'node:crypto';
import {
  CALL_EVENT_TYPES,
  type CallEvent,
  type CallEventType,
  callEventSchema,
  type EventOf,
  type PayloadOf,
} from './schemas.js';

/**
 * The organization a call belongs to when its events carry none. Migration 001 creates this
 * row; single-tenant deployments never need another.
 */
export const DEFAULT_ORGANIZATION_ID = '00000000-0000-0000-0000-000000000001';

export interface MakeEventOptions {
  organizationId?: string;
  /** Defaults to now. Pass the moment the fact happened if it is known to be earlier. */
  occurredAt?: Date | string;
  /** Defaults to a fresh random UUID; pass one to make re-emission idempotent. */
  id?: string;
}

/**
 * Builds an event envelope around a payload. Cheap and synchronous (no validation): it runs on
 * the real-time path. The persister validates with parseEvent and dead-letters what fails.
 */
export function makeEvent<T extends CallEventType>(
  type: T,
  callId: string,
  payload: PayloadOf<T>,
  options: MakeEventOptions = {},
): EventOf<T> {
  const occurred = options.occurredAt ?? new Date();
  const event = {
    id: options.id ?? randomUUID(),
    type,
    occurred_at: typeof occurred === 'string' ? occurred : occurred.toISOString(),
    call_id: callId,
    ...(options.organizationId ? { organization_id: options.organizationId } : {}),
    payload,
  };
  // The generic payload cannot be narrowed by TypeScript to the matching union member.
  return event as unknown as EventOf<T>;
}

export type ParseResult = { ok: true; event: CallEvent } | { ok: false; reason: string };

const KNOWN_TYPES = new Set<string>(CALL_EVENT_TYPES);

/** Validates anything (a queue message, a journal line) into a CallEvent, or says why not. */
export function parseEvent(input: unknown): ParseResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, reason: `event must be an object, got ${input === null ? 'null' : typeof input}` };
  }
  const type = (input as { type?: unknown }).type;
  if (typeof type !== 'string' || !KNOWN_TYPES.has(type)) {
    return {
      ok: false,
      reason: `unknown event type ${JSON.stringify(type)} (expected one of ${CALL_EVENT_TYPES.join(', ')})`,
    };
  }
  const parsed = callEventSchema.safeParse(input);
  if (parsed.success) return { ok: true, event: parsed.data };
  const reason = parsed.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
  return { ok: false, reason: `invalid ${type} event: ${reason}` };
}

/** Where an event's organization defaults to. */
export function organizationOf(event: CallEvent): string {
  return event.organization_id ?? DEFAULT_ORGANIZATION_ID;
}
