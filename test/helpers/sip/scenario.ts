import { basename } from 'node:path';
import { mulawDurationMs } from './line-audio.js';
import { DIALOG_UAC, IDLE, idleLine, notify, reply, SDP, uacRequest, uasBye } from './sip-messages.js';

/**
 * Builds the SIPp scenario a phone follows: a caller dialling livekit-sip (UAC) or a phone
 * answering it (UAS), then the test's steps. `raws` maps each utterance's WAV (and IDLE) to the
 * raw μ-law file rtp_stream plays.
 */

/** Fills {{name}} placeholders (the fixture templates); an unfilled one is an error. */
export function fillTemplate(template: string, values: Record<string, string | number>): string {
  // Comments (which may mention placeholders) are dropped; sipp needs none of them.
  const out = template
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/\{\{(\w+)\}\}/g, (m, key: string) => (key in values ? String(values[key]) : m));
  const left = out.match(/\{\{\w+\}\}/);
  if (left) throw new Error(`template placeholder ${left[0]} not filled`);
  return out;
}

/** What the phone does once the call is up. */
export type PhoneStep =
  /** Stream a recorded utterance (8 kHz μ-law WAV) as RTP, then carry on. */
  | { say: string }
  /** Wait until the test calls next(). */
  | { wait: true }
  /** Hang up (BYE) and wait for its 200. */
  | { hangup: true }
  /** Expect the far end to hang up (BYE), answer 200. */
  | { expectBye: true }
  /**
   * Expect a REFER (blind transfer), accept it (202), report the transfer target to the
   * test, tell the transferor it succeeded (NOTIFY sipfrag 200), then expect its BYE.
   */
  | { expectRefer: true };

function stepsXml(steps: PhoneStep[], raws: Map<string, string>, side: 'uac' | 'uas'): string {
  let cseq = 2;
  const parts: string[] = [];
  for (const step of steps) {
    if ('wait' in step) {
      parts.push('\n  <recvCmd/>');
    } else if ('say' in step) {
      const raw = raws.get(step.say)!;
      parts.push(`
  <nop><action><exec rtp_stream="${raw},1,0"/></action></nop>
  <pause milliseconds="${mulawDurationMs(raw) + 100}"/>
  <nop><action><exec rtp_stream="${raws.get(IDLE)!},-1,0"/></action></nop>`);
      parts.push(notify(`said ${basename(step.say)}`));
    } else if ('hangup' in step) {
      if (side === 'uac') parts.push(uacRequest('BYE', cseq++));
      else parts.push(uasBye());
      parts.push('\n  <recv response="200" crlf="true"/>');
    } else if ('expectBye' in step) {
      parts.push('\n  <recv request="BYE"/>', reply('200 OK'), notify('bye'));
    } else if ('expectRefer' in step) {
      parts.push(
        `
  <recv request="REFER">
    <action>
      <ereg regexp="Refer-To: *&lt;?([^&gt;[:space:]]*)" search_in="msg" check_it="true" assign_to="refer_all,refer_to"/>
    </action>
  </recv>
  <!-- Answer like a peer across a network, not within a millisecond: livekit-sip 1.8 misses a
       final response that arrives before it waits for one (it reports the REFER as failed). -->
  <pause milliseconds="150"/>`,
        reply('202 Accepted'),
        notify('refer', { 'X-Refer-To': '[$refer_to]', 'X-Refer-Header': '[$refer_all]' }),
        uacRequest(
          'NOTIFY',
          cseq++,
          'Event: refer\n      Subscription-State: terminated;reason=noresource\n      Content-Type: message/sipfrag;version=2.0\n      ',
          'SIP/2.0 200 OK',
        ),
        '\n  <recv response="200"/>',
        '\n  <recv request="BYE"/>',
        reply('200 OK'),
        notify('bye'),
      );
    }
  }
  return parts.join('');
}

/** A caller dialling livekit-sip, then following `steps`, driven by the test. */
export function uacScenario(steps: PhoneStep[], raws: Map<string, string>): string {
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="scripted caller">
${uacRequest('INVITE', 1, 'User-Agent: sipp-test-caller\n      Content-Type: application/sdp\n      ', SDP)}
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      ${DIALOG_UAC}
      CSeq: 1 ACK
      Contact: <sip:{{caller}}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
${notify('answered')}
${idleLine(raws)}
${stepsXml(steps, raws, 'uac')}
</scenario>
`;
}

/**
 * A phone answering livekit-sip's outbound INVITE: rings, then answers 200 with SDP (or
 * rejects with `reject`, e.g. "486 Busy Here"), then follows `steps`.
 */
export function uasScenario(
  steps: PhoneStep[],
  raws: Map<string, string>,
  reject?: string,
  noAnswer = false,
): string {
  const head = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="scripted callee">
  <recv request="INVITE" crlf="true">
    <action>
      <!-- For our own in-dialog requests (BYE): the caller's Contact, From (with its tag), To. -->
      <ereg regexp="sips?:[^&gt;;[:space:]]*" search_in="hdr" header="Contact:" check_it="true" assign_to="peer_contact"/>
      <ereg regexp="[^[:space:]].*" search_in="hdr" header="From:" check_it="true" assign_to="peer_from"/>
      <ereg regexp="[^[:space:]].*" search_in="hdr" header="To:" check_it="true" assign_to="peer_to"/>
    </action>
  </recv>
${notify('invited', {
  'X-Peer-Contact': '[$peer_contact]',
  'X-Peer-To': '[$peer_to]',
  'X-Peer-From': '[$peer_from]',
})}
${reply('100 Trying')}
${reply('180 Ringing', { uas: true })}`;
  if (noAnswer) {
    // Ring until the caller gives up (CANCEL): 200 for the CANCEL, 487 for the INVITE.
    return `${head}
  <recv request="CANCEL"/>
${notify('cancelled')}
${reply('200 OK', { uas: true })}
  <send>
    <![CDATA[
      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: [last_cseq_number] INVITE
      Content-Length: 0
    ]]>
  </send>
  <!-- The ACK for the 487 belongs to livekit-sip's transaction layer; don't fail without it. -->
  <recv request="ACK" timeout="3000" ontimeout="1"/>
  <label id="1"/>
  <pause milliseconds="10"/>
</scenario>
`;
  }
  if (reject) {
    return `${head}
  <pause milliseconds="300"/>
${reply(reject, { uas: true })}
  <recv request="ACK"/>
${notify('rejected')}
</scenario>
`;
  }
  return `${head}
  <pause milliseconds="300"/>
${reply('200 OK', { sdp: true, uas: true })}
  <recv request="ACK" rtd="true" crlf="true"/>
${notify('answered')}
${idleLine(raws)}
${stepsXml(steps, raws, 'uas')}
</scenario>
`;
}
