import type { Room } from '@livekit/rtc-node';
import { SipClient } from 'livekit-server-sdk';
import type { Config } from '../config/config.js';
import type { Action } from '../pipeline/engine-port.js';
import { sleep } from '../util/async.js';
import type { CallLifecycle, CallOutcome } from './call-lifecycle.js';
import { loggedOperation } from './provider-log.js';
import type { CallerIdentity } from './sip-identity.js';

/**
 * What the flow asks the call to do besides speaking, carried out on the telephony side:
 * hang up, transfer to a person (SIP REFER through livekit-sip), send DTMF. Actions arrive
 * after the reply that announced them has played (see ConversationController).
 */
export interface ActionContext {
  cfg: Config;
  room: Room;
  caller: CallerIdentity;
  lifecycle: CallLifecycle;
  /** Says something outside the flow and resolves once it has played. */
  say(text: string): Promise<void>;
  /** Ends the call (records the outcome once, then leaves and closes the room). */
  finish(outcome: Omit<CallOutcome, 'finalState'>): Promise<void>;
  report(errorType: string, message: string): void;
}

export const NO_TRANSFER_MESSAGE =
  "I'm sorry, nobody is available to take your call right now. Please call back later. Goodbye.";

/** RFC 4733 event codes: digits are themselves, * is 10, # is 11. */
export function dtmfCode(digit: string): number | undefined {
  if (/^[0-9]$/.test(digit)) return Number(digit);
  if (digit === '*') return 10;
  if (digit === '#') return 11;
  if (/^[A-D]$/.test(digit)) return 12 + 'ABCD'.indexOf(digit);
  return undefined;
}

export async function runActions(actions: Action[], ctx: ActionContext): Promise<void> {
  for (const action of actions) {
    switch (action.type) {
      case 'hangup':
        ctx.lifecycle.step('hangup', 'ai', { reason: action.reason ?? 'flow' });
        await ctx.finish({ status: 'COMPLETED', reason: action.reason ?? 'flow_complete' });
        return;
      case 'transfer':
        await transfer(action.target ?? ctx.cfg.SIP_TRANSFER_TO, action.reason, ctx);
        return;
      case 'custom':
        if (action.name === 'send_dtmf') await sendDtmf(String(action.data?.digits ?? ''), ctx);
        break;
    }
  }
}

async function transfer(target: string | undefined, reason: string | undefined, ctx: ActionContext) {
  if (ctx.caller.kind !== 'sip' || !target) {
    // A browser caller cannot be REFERred, and without a target there is nobody to refer to.
    ctx.report('transfer_unavailable', !target ? 'SIP_TRANSFER_TO is not set' : 'caller is not on SIP');
    await ctx.say(NO_TRANSFER_MESSAGE);
    await ctx.finish({ status: 'COMPLETED', reason: 'transfer_unavailable' });
    return;
  }
  const sip = new SipClient(
    httpUrl(ctx.cfg.LIVEKIT_URL),
    ctx.cfg.LIVEKIT_API_KEY,
    ctx.cfg.LIVEKIT_API_SECRET,
  );
  try {
    const room = ctx.room.name ?? '';
    await loggedOperation(
      ctx.lifecycle.providerLog,
      'transfer',
      {
        method: 'TransferSIPParticipant',
        room_name: room,
        participant_identity: ctx.caller.identity,
        transfer_to: target,
        play_dialtone: false,
      },
      () => sip.transferSipParticipant(room, ctx.caller.identity, target, { playDialtone: false }),
      () => (ctx.caller.sipCallId ? { providerCallId: ctx.caller.sipCallId } : {}),
    );
    // The transfer target is the business's number, not the caller's: safe to record.
    ctx.lifecycle.step('transferred', 'telephony', { target, reason: reason ?? 'handoff' });
    await ctx.finish({ status: 'COMPLETED', reason: 'transferred' });
  } catch (err) {
    ctx.report('transfer_failed', err instanceof Error ? err.message : String(err));
    await ctx.say(NO_TRANSFER_MESSAGE);
    await ctx.finish({ status: 'COMPLETED', reason: 'transfer_failed' });
  }
}

async function sendDtmf(digits: string, ctx: ActionContext) {
  const local = ctx.room.localParticipant;
  if (!local) return;
  for (const d of digits) {
    const code = dtmfCode(d);
    if (code === undefined) continue;
    await local.publishDtmf(code, d);
    await sleep(120);
  }
}

/** The server SDK talks HTTP(S) to the same host the worker reaches over WebSocket. */
export function httpUrl(url: string): string {
  return url.replace(/^ws(s?):\/\//, 'http$1://');
}
