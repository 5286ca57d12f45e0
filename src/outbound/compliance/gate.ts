import type pg from 'pg';
import type { Actor } from '../../control/audit.js';
import { withOrganization } from '../../persistence/tenant-scope.js';
import { type ComplianceDecision, checkCompliance } from './check.js';
import type { Channel } from './rules.js';
import { loadContact, loadRules, recordDecision } from './store.js';

/**
 * The check immediately before a dial: the customer's data and the organization's rules as
 * they are now, the decision recorded (and audited when it stops the call). A refused dial is
 * the call's outcome, not a fault: ComplianceBlockedError carries its reason.
 */

export class ComplianceBlockedError extends Error {
  override name = 'ComplianceBlockedError';
  constructor(readonly decision: ComplianceDecision) {
    const rules = [...decision.blocked_by, ...decision.approval_required].join(', ');
    super(
      `compliance_blocked: ${rules}${decision.next_allowed_at ? ` (next allowed ${decision.next_allowed_at})` : ''}`,
    );
  }
}

export interface ComplianceGateRequest {
  organizationId: string;
  customerId: string;
  channel?: Channel;
  at?: Date;
  actor: Actor;
}

/** Checks, records, and throws ComplianceBlockedError unless the contact is allowed. */
export async function complianceGate(
  pool: pg.Pool,
  request: ComplianceGateRequest,
): Promise<ComplianceDecision> {
  const at = request.at ?? new Date();
  const channel = request.channel ?? 'phone';
  const decision = await withOrganization(pool, request.organizationId, async (client) => {
    const checked = checkCompliance(
      await loadContact(client, request.customerId, at),
      await loadRules(client),
      {
        at,
        channel,
      },
    );
    await recordDecision(client, {
      organizationId: request.organizationId,
      customerId: request.customerId,
      channel,
      at,
      decision: checked,
      actor: request.actor,
    });
    return checked;
  });
  if (!decision.allowed) throw new ComplianceBlockedError(decision);
  return decision;
}
