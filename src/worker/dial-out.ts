import { SipClient } from 'livekit-server-sdk';
import type { Config } from '../config/config.js';
import { DEFAULT_ORGANIZATION_ID } from '../events/model.js';
import { complianceGate } from '../outbound/compliance/gate.js';
import type { OutboundPolicy } from '../outbound/policy.js';
import { sleep } from '../util/async.js';
import { httpUrl } from './call-actions.js';
import type { CallLifecycle } from './call-lifecycle.js';
import type { JobMetadata } from './job-metadata.js';
import { loggedOperation } from './provider-log.js';
import { workerRolePool } from './worker-pool.js';

/**
 * Outbound: livekit-sip dials the number into the room. Resolves, once the callee answered,
 * with the identity of the SIP participant that joins for them; throws NotAnsweredError when
 * the callee was busy, declined or did not answer, an Error for anything else.
 */
export async function dialOut(
  cfg: Config,
  meta: JobMetadata,
  roomName: string,
  lifecycle: CallLifecycle,
  policy: OutboundPolicy,
  organizationId?: string,
): Promise<string> {
  const dial = meta.dial!;
  // Allowlist and per-organization rate, again here: a dispatch may not come from our CLI.
  await policy.admit(dial.number, organizationId);
  if (dial.customer_id) {
    // Compliance last, immediately before the dial: its decision is recorded either way.
    await complianceGate(workerRolePool(cfg), {
      organizationId: organizationId ?? DEFAULT_ORGANIZATION_ID,
      customerId: dial.customer_id,
      actor: { type: 'system', id: `worker:${lifecycle.callId}` },
    });
  }
  const trunkId = dial.trunk_id ?? (await findOutboundTrunk(cfg));
  const sip = new SipClient(httpUrl(cfg.LIVEKIT_URL), cfg.LIVEKIT_API_KEY, cfg.LIVEKIT_API_SECRET);
  const identity = `sip-out-${lifecycle.callId.slice(0, 8)}`;
  lifecycle.step('ringing', 'telephony');
  const ringS = dial.ring_timeout_s ?? 30;
  const retryUntil = Date.now() + BRIDGE_BUSY_RETRY_MS;
  for (;;) {
    try {
      await loggedOperation(
        lifecycle.providerLog,
        'initiate',
        {
          method: 'CreateSIPParticipant',
          sip_trunk_id: trunkId,
          sip_call_to: dial.number,
          room_name: roomName,
          participant_identity: identity,
          wait_until_answered: true,
          ringing_timeout_s: ringS,
        },
        () =>
          sip.createSipParticipant(trunkId, dial.number, roomName, {
            participantIdentity: identity,
            waitUntilAnswered: true,
            ringingTimeout: ringS,
          }),
        (info) => ({
          providerCallId: info.sipCallId,
          response: {
            participant_id: info.participantId,
            participant_identity: info.participantIdentity,
            room_name: info.roomName,
            sip_call_id: info.sipCallId,
          },
        }),
      );
      break;
    } catch (err) {
      // livekit-sip refuses new calls for a moment when its CPU is busy ("cpu exhausted"),
      // before anything rings: try again for a while rather than fail the call outright.
      if (isBridgeBusy(err) && Date.now() + 1000 < retryUntil) {
        await sleep(1000);
        continue;
      }
      const reason = notAnsweredReason(err, ringS);
      throw /^(busy|no_answer|declined):/.test(reason) ? new NotAnsweredError(reason) : new Error(reason);
    }
  }
  return identity;
}

/** How long an outbound call is retried while livekit-sip says its CPU is exhausted. */
const BRIDGE_BUSY_RETRY_MS = 15_000;

/** The callee was busy, declined or did not answer: the call's outcome, not a fault. */
export class NotAnsweredError extends Error {
  override name = 'NotAnsweredError';
}

function isBridgeBusy(err: unknown): boolean {
  return (
    err instanceof Error && !(err as { metadata?: unknown }).metadata && /cpu exhausted/i.test(err.message)
  );
}

/**
 * Why an outbound call failed, as its end reason: `busy` (486/600), `no_answer` (408/480/487,
 * or livekit-sip's own ringing timeout, which carries no SIP status), `declined` (603),
 * `rejected` otherwise, `dial_failed` without a SIP status — with the status, never the number
 * (livekit-server-sdk's SipCallError carries `sipStatusCode` / `sipStatus`).
 */
export function notAnsweredReason(err: unknown, ringSeconds?: number): string {
  const e = err as { sipStatusCode?: number; sipStatus?: string; message?: string };
  const code = typeof e?.sipStatusCode === 'number' ? e.sipStatusCode : undefined;
  const message = String(e?.message ?? err);
  if (code === undefined && /sip request timed out/i.test(message)) {
    return `no_answer: not answered within ${ringSeconds ?? '?'} s`;
  }
  const status = code ? `SIP ${code}${e.sipStatus ? ` ${e.sipStatus}` : ''}` : message;
  const kind =
    code === undefined
      ? 'dial_failed'
      : code === 486 || code === 600
        ? 'busy'
        : code === 408 || code === 480 || code === 487
          ? 'no_answer'
          : code === 603
            ? 'declined'
            : 'rejected';
  return `${kind}: ${status}`.slice(0, 200);
}

async function findOutboundTrunk(cfg: Config): Promise<string> {
  const sip = new SipClient(httpUrl(cfg.LIVEKIT_URL), cfg.LIVEKIT_API_KEY, cfg.LIVEKIT_API_SECRET);
  const trunks = await sip.listSipOutboundTrunk();
  const ours = trunks.find((t) => t.name === `${cfg.AGENT_NAME}-outbound`);
  if (!ours) throw new Error('no outbound trunk: run voice-agent sip setup');
  return ours.sipTrunkId;
}
