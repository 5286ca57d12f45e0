import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { rmsDbfs } from '../../src/audio/level.js';
import { mulawDecode, mulawEncode } from '../../src/audio/mulaw.js';
import { readWav } from '../../src/audio/wav.js';

/**
 * A real SIP peer for the telephony tests: SIPp (the `sipp` binary, apt sip-tester) does the
 * SIP signalling and streams the caller's recorded utterances as RTP from its own media port;
 * a Node UDP socket (RtpPeer) is the media address announced in the SDP, so the test receives
 * (and measures) exactly the RTP that livekit-sip sends to the phone, and can send RFC 4733
 * telephone-events into the call.
 *
 * The test drives a call step by step: SIPp runs in 3PCC "controller A" mode with its twin
 * socket connected to this process, reports "answered" (and later events) with <sendCmd>, and
 * waits at each <recvCmd> until the test calls `next()` — so the caller speaks when the agent
 * has finished its prompt, not after a guessed pause. Nothing in the SIP or RTP path is faked.
 */

export const SIPP = process.env.SIPP_BIN ?? 'sipp';
const FIXTURES = join(import.meta.dirname, '../fixtures');
export const MULAW_FIXTURES = join(FIXTURES, 'audio/mulaw8k');
export const UAC_TEMPLATE = join(FIXTURES, 'sip/uac-inbound.xml');

/** Fails loudly (never skips) when sipp is missing or built without RTP streaming. */
export function assertSippAvailable(): string {
  const r = spawnSync(SIPP, ['-v'], { encoding: 'utf8' });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const m = out.match(/SIPp v(\S+)/);
  if (r.error || !m) {
    throw new Error(
      `sipp not found (${SIPP}): install sip-tester (scripts/setup.sh). ${r.error?.message ?? out}`,
    );
  }
  if (!/RTPSTREAM/.test(m[1]!)) throw new Error(`sipp ${m[1]} lacks RTP streaming (rtp_stream)`);
  return m[1]!;
}

// ---------------------------------------------------------------------------------------------
// Media

/** One RTP packet as received. */
export interface RtpPacket {
  at: number;
  pt: number;
  seq: number;
  ts: number;
  ssrc: number;
  payload: Buffer;
  /** PCMU frames: RMS level of the decoded frame (dBFS). */
  dbfs?: number;
}

/** Frames at or above this level count as the agent speaking. */
export const SPEECH_DBFS = -45;

export { rmsDbfs };

/**
 * The phone's media socket: receives what livekit-sip sends (PCMU, payload type 0, decoded
 * with src/audio/mulaw.ts) and sends RFC 4733 DTMF events back to livekit-sip's media port.
 */
export class RtpPeer {
  readonly packets: RtpPacket[] = [];
  /** livekit-sip's media address (where its RTP comes from; it also receives there). */
  remote: { address: string; port: number } | undefined;
  #dtmfSeq = Math.floor(Math.random() * 30000);
  #dtmfTs = Math.floor(Math.random() * 1e9);
  readonly #dtmfSsrc = (Math.random() * 0xffffffff) >>> 0;

  private constructor(
    private readonly socket: dgram.Socket,
    readonly port: number,
  ) {
    socket.on('message', (msg, rinfo) => this.#onPacket(msg, rinfo));
  }

  static async open(): Promise<RtpPeer> {
    // An even port (RTP convention; RTCP would be port + 1).
    for (let attempt = 0; attempt < 20; attempt++) {
      const socket = dgram.createSocket('udp4');
      const port = await new Promise<number>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, '127.0.0.1', () => resolve(socket.address().port));
      });
      if (port % 2 === 0) return new RtpPeer(socket, port);
      socket.close();
    }
    throw new Error('no even UDP port for RTP');
  }

  #onPacket(msg: Buffer, rinfo: dgram.RemoteInfo) {
    if (msg.length < 12 || msg[0]! >> 6 !== 2) return;
    this.remote ??= { address: rinfo.address, port: rinfo.port };
    const cc = msg[0]! & 0x0f;
    const ext = (msg[0]! & 0x10) !== 0;
    let off = 12 + cc * 4;
    if (ext && msg.length >= off + 4) off += 4 + msg.readUInt16BE(off + 2) * 4;
    const pt = msg[1]! & 0x7f;
    const payload = msg.subarray(off);
    const packet: RtpPacket = {
      at: Date.now(),
      pt,
      seq: msg.readUInt16BE(2),
      ts: msg.readUInt32BE(4),
      ssrc: msg.readUInt32BE(8),
      payload,
    };
    if (pt === 0) packet.dbfs = rmsDbfs(mulawDecode(payload));
    this.packets.push(packet);
  }

  audioPackets(since = 0): RtpPacket[] {
    return this.packets.filter((p) => p.pt === 0 && p.at >= since);
  }

  speechPackets(since = 0): RtpPacket[] {
    return this.audioPackets(since).filter((p) => (p.dbfs ?? -200) >= SPEECH_DBFS);
  }

  /**
   * The agent's audio between its first and last loud frame after `since` (pauses between
   * words included): the "loud part" a test measures.
   */
  speechPcm(since = 0): Int16Array {
    const loud = this.speechPackets(since);
    if (loud.length === 0) return new Int16Array(0);
    const first = loud[0]!.at;
    const last = loud[loud.length - 1]!.at;
    return decodePcmu(this.audioPackets(first).filter((p) => p.at <= last));
  }

  /** Resolves with the arrival time of the first loud frame after `since`, or undefined. */
  async waitForSpeech(opts: { since?: number; timeoutMs?: number } = {}): Promise<number | undefined> {
    const since = opts.since ?? 0;
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    while (Date.now() < deadline) {
      const first = this.speechPackets(since)[0];
      if (first) return first.at;
      await sleep(50);
    }
    return undefined;
  }

  /**
   * Waits for the agent to speak after `since` and then be quiet for `quietMs`: the end of
   * its turn. Resolves with { start, end } of the loud part, or undefined on timeout.
   */
  async waitForTurn(
    opts: { since?: number; quietMs?: number; timeoutMs?: number } = {},
  ): Promise<{ start: number; end: number } | undefined> {
    const since = opts.since ?? 0;
    // Long enough to bridge the gap between two synthesized sentences on a busy machine.
    const quietMs = opts.quietMs ?? 2000;
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    while (Date.now() < deadline) {
      const loud = this.speechPackets(since);
      const last = loud[loud.length - 1];
      if (last && Date.now() - last.at >= quietMs) return { start: loud[0]!.at, end: last.at };
      await sleep(50);
    }
    return undefined;
  }

  /**
   * Presses a key the way a phone does out of band (RFC 4733 telephone-event, payload type
   * `pt` as negotiated in the SDP): one event, same timestamp throughout, marker on the first
   * packet, three end-of-event packets, 20 ms apart — sent to livekit-sip's media port.
   */
  async sendDtmf(digit: string, opts: { pt?: number; durationMs?: number } = {}): Promise<void> {
    const code = '0123456789*#ABCD'.indexOf(digit);
    if (code < 0) throw new Error(`not a DTMF key: ${digit}`);
    if (!this.remote) throw new Error('no RTP received yet: livekit-sip media address unknown');
    const pt = opts.pt ?? 101;
    const steps = Math.max(3, Math.round((opts.durationMs ?? 160) / 20));
    const ts = this.#dtmfTs;
    this.#dtmfTs = (this.#dtmfTs + 8 * 20 * (steps + 5)) >>> 0;
    const send = (marker: boolean, end: boolean, duration: number) => {
      const b = Buffer.alloc(16);
      b[0] = 0x80;
      b[1] = (marker ? 0x80 : 0) | pt;
      b.writeUInt16BE(this.#dtmfSeq++ & 0xffff, 2);
      b.writeUInt32BE(ts, 4);
      b.writeUInt32BE(this.#dtmfSsrc, 8);
      b[12] = code;
      b[13] = (end ? 0x80 : 0) | 10; // volume -10 dBm0
      b.writeUInt16BE(duration, 14);
      this.#dtmfSeq &= 0xffff;
      return new Promise<void>((resolve, reject) =>
        this.socket.send(b, this.remote!.port, this.remote!.address, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
    };
    for (let i = 1; i <= steps; i++) {
      await send(i === 1, false, i * 160);
      await sleep(20);
    }
    for (let i = 0; i < 3; i++) await send(false, true, steps * 160);
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Audio files for rtp_stream

/**
 * sipp's rtp_stream sends the file's bytes as they are (a WAV header would go out as audio):
 * extract the μ-law data chunk of an 8 kHz μ-law WAV fixture into a raw file, once per dir.
 */
export function rawMulaw(wavPath: string, dir: string): string {
  const wav = readWav(wavPath);
  if (wav.encoding !== 'mulaw' || wav.sampleRate !== 8000 || wav.channels !== 1)
    throw new Error(
      `${wavPath}: need mono 8 kHz μ-law, got ${wav.encoding} ${wav.sampleRate} Hz × ${wav.channels}`,
    );
  const out = join(dir, `${basename(wavPath, '.wav')}.ulaw`);
  // Decoded to linear by readWav; re-encoding gives the file's bytes back (μ-law's two zero
  // codes aside, which sound the same).
  writeFileSync(out, mulawEncode(wav.samples));
  return out;
}

/**
 * One second of a phone's idle line: faint comfort noise (about -66 dBFS), raw μ-law. A phone
 * sends RTP all call long; livekit-sip hangs up a call it has heard nothing from for 30 s.
 */
export function writeIdleLine(dir: string): string {
  let seed = 0x2545f491;
  const samples = new Int16Array(8000);
  for (let i = 0; i < samples.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    samples[i] = ((seed >>> 16) % 31) - 15;
  }
  const out = join(dir, 'idle-line.ulaw');
  writeFileSync(out, mulawEncode(samples));
  return out;
}

/** Length of a raw μ-law file in ms (8000 bytes a second). */
export function mulawDurationMs(rawPath: string): number {
  return Math.round(readFileSync(rawPath).length / 8);
}

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

// ---------------------------------------------------------------------------------------------
// Scenario building blocks (UAC: we call livekit-sip; UAS: livekit-sip calls us)

const DIALOG_UAC = `From: "Test Caller" <sip:{{caller}}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]`;

function uacRequest(method: string, cseq: number, extra = '', body = ''): string {
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
function reply(status: string, opts: { sdp?: boolean; uas?: boolean } = {}): string {
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
const SDP = `v=0
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

const notify = (event: string) => `
  <sendCmd>
    <![CDATA[
      Call-ID: [call_id]
      X-Event: ${event}
    ]]>
  </sendCmd>`;

/** Key of the idle-line file in the scenario's file map. */
const IDLE = '(idle line)';

/** The phone's line from answer on: idle noise until an utterance replaces it. */
const idleLine = (raws: Map<string, string>) =>
  `  <nop><action><exec rtp_stream="${raws.get(IDLE)!},-1,0"/></action></nop>`;

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
        `
  <sendCmd>
    <![CDATA[
      Call-ID: [call_id]
      X-Event: refer
      X-Refer-To: [$refer_to]
      X-Refer-Header: [$refer_all]
    ]]>
  </sendCmd>`,
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

function uasBye(): string {
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
  <sendCmd>
    <![CDATA[
      Call-ID: [call_id]
      X-Event: invited
      X-Peer-Contact: [$peer_contact]
      X-Peer-To: [$peer_to]
      X-Peer-From: [$peer_from]
    ]]>
  </sendCmd>
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

// ---------------------------------------------------------------------------------------------
// Running sipp

/** A UDP port nobody listens on right now, with `extra` free ports after it (sipp media). */
export async function freeUdpPort(extra = 0): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + 2 * Math.floor(Math.random() * 10000);
    const sockets: dgram.Socket[] = [];
    let ok = true;
    for (let p = port; p <= port + extra && ok; p++) {
      const s = dgram.createSocket('udp4');
      sockets.push(s);
      ok = await new Promise<boolean>((resolve) => {
        s.once('error', () => resolve(false));
        s.bind(p, '127.0.0.1', () => resolve(true));
      });
    }
    for (const s of sockets) {
      try {
        s.close();
      } catch {
        // not bound
      }
    }
    if (ok) return port;
  }
  throw new Error('no free UDP port');
}

export interface PhoneEvent {
  event: string;
  at: number;
  headers: Record<string, string>;
}

export interface SippPhoneOptions {
  /** 'uac' calls `target`; 'uas' listens on `port` for livekit-sip's outbound INVITE. */
  role: 'uac' | 'uas';
  /** UAC: livekit-sip's SIP address. */
  target?: string;
  /** UAC: the number dialled (the inbound trunk's number). */
  service?: string;
  /** UAC: the caller's number (From). */
  caller?: string;
  /** UAS: the SIP port to listen on. */
  port?: number;
  steps: PhoneStep[];
  /** UAS: reject the INVITE with this status line instead of answering. */
  reject?: string;
  /** UAS: ring and never answer (until the caller CANCELs). */
  noAnswer?: boolean;
  /** Give up (sipp exits with failure) after this long. */
  timeoutMs?: number;
  /**
   * Use this scenario text instead of building one (placeholders still filled), e.g. the
   * fixed-timeline caller: `readFileSync(UAC_TEMPLATE, 'utf8')` with vars `{ wav, talk_ms }`.
   */
  scenario?: string;
  /** Fills extra {{placeholders}} of a custom scenario. */
  vars?: Record<string, string | number>;
}

/**
 * One sipp process handling one call, with its media socket and its 3PCC control channel.
 * `events` records what the scenario reported (answered, said <file>, refer, bye…).
 */
export class SippPhone {
  readonly events: PhoneEvent[] = [];
  output = '';
  exitCode: number | null = null;
  readonly exited: Promise<number | null>;
  readonly startedAt = Date.now();
  #callId: string | undefined;
  #ctl: net.Socket | undefined;
  #waiters: (() => void)[] = [];

  private constructor(
    readonly proc: ChildProcess,
    readonly rtp: RtpPeer,
    readonly dir: string,
    readonly sipPort: number,
    private readonly server: net.Server,
  ) {
    const onData = (d: Buffer) => {
      this.output += d.toString();
      if (this.output.length > 200_000) this.output = this.output.slice(-100_000);
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    this.exited = new Promise((resolve) =>
      proc.on('exit', (code) => {
        this.exitCode = code;
        this.#wake();
        resolve(code);
      }),
    );
  }

  static async start(opts: SippPhoneOptions): Promise<SippPhone> {
    const dir = mkdtempSync(join(tmpdir(), 'va-sipp-'));
    mkdirSync(dir, { recursive: true });
    const rtp = await RtpPeer.open();
    const raws = new Map<string, string>([[IDLE, writeIdleLine(dir)]]);
    for (const s of opts.steps) if ('say' in s && !raws.has(s.say)) raws.set(s.say, rawMulaw(s.say, dir));
    const vars: Record<string, string | number> = {
      caller: opts.caller ?? '+15550000',
      rtp_port: rtp.port,
      ...opts.vars,
    };
    // A template's {{wav}} (uac-inbound.xml): rtp_stream wants the raw μ-law bytes.
    if (typeof vars.wav === 'string' && vars.wav.endsWith('.wav')) vars.wav = rawMulaw(vars.wav, dir);
    const xml = fillTemplate(
      opts.scenario ??
        (opts.role === 'uac'
          ? uacScenario(opts.steps, raws)
          : uasScenario(opts.steps, raws, opts.reject, opts.noAnswer)),
      vars,
    );
    const scenarioPath = join(dir, 'scenario.xml');
    writeFileSync(scenarioPath, xml);

    // The 3PCC twin: sipp connects here and exchanges ESC-delimited commands.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const ctlPort = (server.address() as net.AddressInfo).port;

    const sipPort = opts.port ?? (await freeUdpPort());
    const mediaPort = await freeUdpPort(3);
    const timeoutS = Math.ceil((opts.timeoutMs ?? 90_000) / 1000);
    const args = [
      ...(opts.role === 'uac' ? [opts.target ?? '127.0.0.1:5060', '-s', opts.service ?? 'agent'] : []),
      '-sf',
      scenarioPath,
      '-i',
      '127.0.0.1',
      '-p',
      String(sipPort),
      '-mi',
      '127.0.0.1',
      '-mp',
      String(mediaPort),
      '-m',
      '1',
      '-l',
      '1',
      '-3pcc',
      `127.0.0.1:${ctlPort}`,
      '-timeout',
      `${timeoutS}s`,
      '-timeout_error',
      '-nostdin',
      '-trace_msg',
      '-message_file',
      join(dir, 'messages.log'),
      '-trace_err',
      '-error_file',
      join(dir, 'errors.log'),
    ];
    const uses3pcc = /<(sendCmd|recvCmd)\b/.test(xml);
    if (!uses3pcc) args.splice(args.indexOf('-3pcc'), 2);
    const proc = spawn(SIPP, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const phone = new SippPhone(proc, rtp, dir, sipPort, server);
    server.on('connection', (sock) => phone.#attach(sock));
    return phone;
  }

  #attach(sock: net.Socket) {
    this.#ctl = sock;
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\x1b'); i >= 0; i = buf.indexOf('\x1b')) {
        const msg = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const headers: Record<string, string> = {};
        for (const line of msg.split(/\r?\n/)) {
          const m = line.match(/^\s*([\w-]+)\s*:\s*(.*?)\s*$/);
          if (m) headers[m[1]!.toLowerCase()] = m[2]!;
        }
        this.#callId ??= headers['call-id'];
        this.events.push({ event: headers['x-event'] ?? '?', at: Date.now(), headers });
        this.#wake();
      }
    });
    sock.on('error', () => undefined);
  }

  #wake() {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** The SIP Call-ID of the call (known once sipp reported its first event). */
  get callId(): string | undefined {
    return this.#callId;
  }

  /** Waits for the scenario to report `event` (prefix match); undefined if sipp exits first. */
  async waitFor(event: string, timeoutMs = 30_000): Promise<PhoneEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = this.events.find((x) => x.event.startsWith(event));
      if (e) return e;
      if (this.exitCode !== null || Date.now() > deadline) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(0, Math.min(500, deadline - Date.now())));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Lets the scenario past its next `{ wait: true }` step. */
  next(): void {
    if (!this.#ctl || !this.#callId) throw new Error('sipp has not reported the call yet');
    this.#ctl.write(`Call-ID: ${this.#callId}\r\nX-Cmd: go\r\n\r\n\x1b`);
  }

  /** The SIP messages sipp sent and received (its -trace_msg file). */
  messages(): string {
    try {
      return readFileSync(join(this.dir, 'messages.log'), 'latin1');
    } catch {
      return '';
    }
  }

  /** What to print when a test fails. */
  diagnostics(): string {
    let errors = '';
    try {
      errors = readFileSync(join(this.dir, 'errors.log'), 'latin1');
    } catch {
      // none
    }
    return `sipp exit=${this.exitCode} events=${JSON.stringify(this.events.map((e) => e.event))}\n${errors.slice(-3000)}\n${this.messages().slice(-6000)}`;
  }

  async stop(): Promise<void> {
    if (this.exitCode === null) {
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
      await this.exited;
      clearTimeout(timer);
    }
    this.#ctl?.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.rtp.close();
    // A call that went as scripted leaves nothing behind; a failed one keeps its trace.
    if (this.exitCode === 0) rmSync(this.dir, { recursive: true, force: true });
  }
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

/** The PCMU payloads of `packets`, decoded into one 8 kHz buffer. */
function decodePcmu(packets: RtpPacket[]): Int16Array {
  const out = new Int16Array(packets.reduce((n, p) => n + p.payload.length, 0));
  let off = 0;
  for (const p of packets) {
    out.set(mulawDecode(p.payload), off);
    off += p.payload.length;
  }
  return out;
}
