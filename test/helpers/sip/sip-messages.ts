/**
 * The SIP messages and SDP of the scripted phone's scenarios, as SIPp XML fragments
 * (UAC: we call livekit-sip; UAS: livekit-sip calls us).
 */

export const DIALOG_UAC = `From: "Test Caller" <sip:{{caller}}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]`;

export function uacRequest(method: string, cseq: number, extra = '', body = ''): string {
  return `
  <send retrans="500">
    <![CDATA[
      ${method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      ${DIALOG_UAC}
      CSeq: ${cseq} ${method}
      Contact: <sip:{{caller}}@[local_ip]:[local_port]>
      Max-Forwards: 70
      ${extra}Content-Length: [len]

${body}
    ]]>
  </send>`;
}

const UAS_DIALOG = `[last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]`;

/** Replies to the request just received (To tag added where it has none). */
export function reply(status: string, opts: { sdp?: boolean; uas?: boolean } = {}): string {
  const to = opts.uas
    ? UAS_DIALOG
    : '[last_Via:]\n      [last_From:]\n      [last_To:]\n      [last_Call-ID:]\n      [last_CSeq:]';
  return `
  <send>
    <![CDATA[
      SIP/2.0 ${status}
      ${to}
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      ${opts.sdp ? 'Content-Type: application/sdp\n      ' : ''}Content-Length: [len]
${opts.sdp ? `\n${SDP}` : ''}
    ]]>
  </send>`;
}

/** Our media: PCMU plus telephone-event 101, at the Node RtpPeer's port. */
export const SDP = `v=0
o=phone 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio {{rtp_port}} RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv`;

/** Reports `event` (and `headers`, e.g. values the scenario captured) to the test over 3PCC. */
export const notify = (event: string, headers: Record<string, string> = {}) => `
  <sendCmd>
    <![CDATA[
      Call-ID: [call_id]
      X-Event: ${event}${Object.entries(headers)
        .map(([name, value]) => `\n      ${name}: ${value}`)
        .join('')}
    ]]>
  </sendCmd>`;

/** Key of the idle-line file in the scenario's file map. */
export const IDLE = '(idle line)';

/** The phone's line from answer on: idle noise until an utterance replaces it. */
export const idleLine = (raws: Map<string, string>) =>
  `  <nop><action><exec rtp_stream="${raws.get(IDLE)!},-1,0"/></action></nop>`;

export function uasBye(): string {
  return `
  <send retrans="500">
    <![CDATA[
      BYE [$peer_contact] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$peer_to];tag=[pid]SIPpTag01[call_number]
      To: [$peer_from]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>`;
}
