import { ParticipantKind, type RemoteParticipant } from '@livekit/rtc-node';

/**
 * Who is on the other end of a call, as livekit-sip describes a SIP participant in its
 * attributes (`sip.*`). A non-SIP participant (a browser, a test caller) is a "web" caller.
 * The caller's number is personal data: it goes into the call.started event (encrypted at
 * rest by the persister) and never into logs.
 */
export interface CallerIdentity {
  kind: 'sip' | 'web';
  identity: string;
  sipCallId?: string;
  callerNumber?: string;
  trunkNumber?: string;
  trunkId?: string;
}

/** livekit-sip's participant attribute names (protocol: livekit/attrs). */
export const SIP_ATTR = {
  callId: 'sip.callID',
  phoneNumber: 'sip.phoneNumber',
  trunkPhoneNumber: 'sip.trunkPhoneNumber',
  trunkId: 'sip.trunkID',
  callStatus: 'sip.callStatus',
} as const;

export function callerIdentity(
  p: Pick<RemoteParticipant, 'identity' | 'kind' | 'attributes'>,
): CallerIdentity {
  const a = p.attributes ?? {};
  const isSip = p.kind === ParticipantKind.SIP || SIP_ATTR.callId in a;
  const id: CallerIdentity = { kind: isSip ? 'sip' : 'web', identity: p.identity };
  if (!isSip) return id;
  const set = (key: keyof CallerIdentity, attr: string) => {
    const v: unknown = a[attr];
    // Attributes come from the SIP side: anything that is not a non-empty string is ignored.
    if (typeof v === 'string' && v) (id as unknown as Record<string, string>)[key] = v.slice(0, 64);
  };
  set('sipCallId', SIP_ATTR.callId);
  set('callerNumber', SIP_ATTR.phoneNumber);
  set('trunkNumber', SIP_ATTR.trunkPhoneNumber);
  set('trunkId', SIP_ATTR.trunkId);
  return id;
}

/** What may be logged about a caller: no number, only whether there is one. */
export function loggableCaller(c: CallerIdentity): Record<string, unknown> {
  return {
    kind: c.kind,
    identity: c.kind === 'sip' ? '[sip]' : c.identity,
    sip_call_id: c.sipCallId,
    has_number: !!c.callerNumber,
  };
}
