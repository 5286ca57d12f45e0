import dgram from 'node:dgram';
import { rmsDbfs } from '../../../src/audio/level.js';
import { mulawDecode } from '../../../src/audio/mulaw.js';
import { sleep } from '../../../src/util/async.js';

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
