import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { udpPortFree } from '../../../src/stack/probes.js';
import { sleep } from '../../../src/util/async.js';
import { rawMulaw, writeIdleLine } from './line-audio.js';
import { RtpPeer } from './rtp-peer.js';
import { fillTemplate, type PhoneStep, uacScenario, uasScenario } from './scenario.js';
import { IDLE } from './sip-messages.js';

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
const FIXTURES = join(import.meta.dirname, '../../fixtures');
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

/** The scenario text for `opts`, with the raw μ-law files it plays written into `dir`. */
function buildScenario(opts: SippPhoneOptions, dir: string, rtpPort: number): string {
  const raws = new Map<string, string>([[IDLE, writeIdleLine(dir)]]);
  for (const s of opts.steps) if ('say' in s && !raws.has(s.say)) raws.set(s.say, rawMulaw(s.say, dir));
  const vars: Record<string, string | number> = {
    caller: opts.caller ?? '+15550000',
    rtp_port: rtpPort,
    ...opts.vars,
  };
  // A template's {{wav}} (uac-inbound.xml): rtp_stream wants the raw μ-law bytes.
  if (typeof vars.wav === 'string' && vars.wav.endsWith('.wav')) vars.wav = rawMulaw(vars.wav, dir);
  const built =
    opts.role === 'uac'
      ? uacScenario(opts.steps, raws)
      : uasScenario(opts.steps, raws, opts.reject, opts.noAnswer);
  return fillTemplate(opts.scenario ?? built, vars);
}

/** One call (-m 1 -l 1) on loopback, with message and error traces kept in `dir`. */
function sippArgs(
  opts: SippPhoneOptions,
  at: { dir: string; scenarioPath: string; sipPort: number; mediaPort: number },
): string[] {
  const timeoutS = Math.ceil((opts.timeoutMs ?? 90_000) / 1000);
  const dialled = opts.role === 'uac' ? [opts.target ?? '127.0.0.1:5060', '-s', opts.service ?? 'agent'] : [];
  return [
    ...dialled,
    ...['-sf', at.scenarioPath, '-i', '127.0.0.1', '-p', String(at.sipPort)],
    ...['-mi', '127.0.0.1', '-mp', String(at.mediaPort), '-m', '1', '-l', '1'],
    ...['-timeout', `${timeoutS}s`, '-timeout_error', '-nostdin'],
    ...['-trace_msg', '-message_file', join(at.dir, 'messages.log')],
    ...['-trace_err', '-error_file', join(at.dir, 'errors.log')],
  ];
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
    const rtp = await RtpPeer.open();
    const xml = buildScenario(opts, dir, rtp.port);
    const scenarioPath = join(dir, 'scenario.xml');
    writeFileSync(scenarioPath, xml);

    // The 3PCC twin: sipp connects here and exchanges ESC-delimited commands.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const ctlPort = (server.address() as net.AddressInfo).port;

    const sipPort = opts.port ?? (await freeUdpPort());
    const mediaPort = await freeUdpPort(3);
    const args = sippArgs(opts, { dir, scenarioPath, sipPort, mediaPort });
    // Without a <sendCmd>/<recvCmd> the scenario is not 3PCC and sipp must not wait for a twin.
    if (/<(sendCmd|recvCmd)\b/.test(xml)) args.push('-3pcc', `127.0.0.1:${ctlPort}`);
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

  /** Resolves once sipp has bound its SIP port (it does so a moment after it starts). */
  async listening(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (await udpPortFree(this.sipPort)) {
      if (this.exitCode !== null)
        throw new Error(`sipp exited before listening:\n${this.output.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`sipp did not bind UDP port ${this.sipPort}`);
      await sleep(25);
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
