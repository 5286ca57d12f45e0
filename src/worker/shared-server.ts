import { JobContext, JobProcess, runWithJobContextAsync, version } from '@livekit/agents';
import {
  type AvailabilityRequest,
  type Job,
  JobType,
  ParticipantPermission,
  ServerMessage,
  WorkerMessage,
  WorkerStatus,
} from '@livekit/protocol';
import { Room, RoomEvent } from '@livekit/rtc-node';
import { AccessToken } from 'livekit-server-sdk';
import WebSocket from 'ws';
import type { Logger } from '../observability/logger.js';
import { sleep, withTimeout } from '../util/async.js';

/**
 * The shared-process executor: calls run inside the worker process itself, each in its own
 * JobContext (the framework's per-job context, found by AgentSession through
 * AsyncLocalStorage) with its own rtc-node Room, all sharing one silero model and one Node
 * runtime. @livekit/agents 1.9 (JS) only offers a process per job (~130 MB private memory
 * each, see docs/BENCHMARKS.md), so this speaks LiveKit's agent worker protocol itself —
 * register, availability, assignment, termination, load updates — the same messages the
 * framework's AgentServer exchanges, and runs the same job entry.
 *
 * The price is isolation: a crash of the process ends every call in it (the heartbeat reaper
 * then marks them INTERRUPTED, as with a killed job process), and a call that blocks the event
 * loop delays the others. Unhandled rejections are logged, not fatal, for that reason.
 */
export interface SharedServerOptions {
  wsUrl: string;
  apiKey: string;
  apiSecret: string;
  agentName: string;
  /** Runs one call (the same entry the process executor's job processes run). */
  entry: (ctx: JobContext) => Promise<void>;
  /** Loaded once (silero VAD) and handed to every call as ctx.proc.userData. */
  userData: Record<string, unknown>;
  /** Accept this job? (maximum concurrent calls, draining). */
  accept: (activeCalls: number) => boolean;
  load: (activeCalls: number) => number;
  loadThreshold: number;
  logger: Logger;
}

/** A worker message as plain data (what the WorkerMessage constructor accepts). */
type OutgoingMessage = NonNullable<ConstructorParameters<typeof WorkerMessage>[0]>['message'];

interface Assignment {
  token: string;
  url?: string | undefined;
}

interface ActiveCall {
  ctx: JobContext;
  room: Room;
  entry?: Promise<void>;
  closing?: Promise<void>;
}

/** How often the worker reports its load (the framework uses the same interval). */
const LOAD_INTERVAL_MS = 2_500;
/** LiveKit sends the assignment right after a positive availability answer. */
const ASSIGNMENT_TIMEOUT_MS = 7_500;
/** How long a call's own shutdown (goodbye, flush) may take before its room is left. */
const CALL_SHUTDOWN_MS = 20_000;

export class SharedProcessServer {
  #opts: SharedServerOptions;
  #calls = new Map<string, ActiveCall>();
  #pending = new Map<string, (assignment: Assignment) => void>();
  #ws: WebSocket | undefined;
  #id: string | undefined;
  #closed = false;
  #draining = false;
  #proc = new JobProcess();
  #log: Logger;
  #onUnhandled: ((reason: unknown) => void) | undefined;
  #retries = 0;

  constructor(opts: SharedServerOptions) {
    this.#opts = opts;
    this.#log = opts.logger.child({ executor: 'shared' });
    Object.assign(this.#proc.userData, opts.userData);
  }

  get id(): string | undefined {
    return this.#id;
  }

  get activeCalls(): number {
    return this.#calls.size;
  }

  /** Connects (and reconnects) to LiveKit until close(). Resolves when closed. */
  async run(): Promise<void> {
    if (!this.#onUnhandled) {
      // One call's forgotten promise must not end every other call in the process.
      this.#onUnhandled = (reason: unknown) =>
        this.#log.error(
          { err: reason instanceof Error ? reason.message : String(reason) },
          'unhandled rejection',
        );
      process.on('unhandledRejection', this.#onUnhandled);
    }
    while (!this.#closed) {
      try {
        await this.#session();
      } catch (err) {
        if (this.#closed) break;
        // Counted since the last successful registration (#onMessage resets it).
        this.#retries += 1;
        const retries = this.#retries;
        if (retries > 16) throw new Error(`cannot reach LiveKit at ${this.#opts.wsUrl}: ${String(err)}`);
        const delay = Math.min(retries * 2, 10);
        this.#log.warn({ err: String(err), retry_in_s: delay }, 'LiveKit connection lost; reconnecting');
        await sleep(delay * 1000);
      }
    }
  }

  /** Stops taking calls; waits up to timeoutMs for active calls to end, then ends the rest. */
  async drain(timeoutMs: number): Promise<void> {
    this.#draining = true;
    this.#send({
      case: 'updateWorker',
      value: { status: WorkerStatus.WS_FULL, load: 1, jobCount: this.#calls.size },
    });
    const until = Date.now() + timeoutMs;
    while (this.#calls.size > 0 && Date.now() < until) await sleep(200);
    if (this.#calls.size > 0)
      throw new Error(`${this.#calls.size} call(s) still active after the drain timeout`);
  }

  /** Ends every call (their shutdown callbacks say goodbye and flush events) and disconnects. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#calls.keys()].map((id) => this.#endCall(id, 'worker closing')));
    this.#ws?.close();
    if (this.#onUnhandled) process.off('unhandledRejection', this.#onUnhandled);
    this.#onUnhandled = undefined;
  }

  async #session(): Promise<void> {
    const token = new AccessToken(this.#opts.apiKey, this.#opts.apiSecret);
    token.addGrant({ agent: true });
    const url = new URL(this.#opts.wsUrl);
    url.protocol = url.protocol.replace('http', 'ws');
    // A new session: nothing of the previous one's registration or pending jobs carries over.
    this.#id = undefined;
    this.#pending.clear();
    const ws = new WebSocket(new URL(`${url.toString().replace(/\/$/, '')}/agent`), {
      headers: { authorization: `Bearer ${await token.toJwt()}` },
      handshakeTimeout: 10_000,
    });
    this.#ws = ws;
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const loadTimer = setInterval(() => this.#reportLoad(), LOAD_INTERVAL_MS);
    try {
      this.#send({
        case: 'register',
        value: {
          type: JobType.JT_ROOM,
          agentName: this.#opts.agentName,
          version,
          allowedPermissions: new ParticipantPermission({
            canPublish: true,
            canSubscribe: true,
            canPublishData: true,
            canUpdateMetadata: true,
            agent: true,
          }),
        },
      });
      await new Promise<void>((resolve, reject) => {
        ws.on('message', (data: Buffer) => {
          try {
            this.#onMessage(ServerMessage.fromBinary(new Uint8Array(data)));
          } catch (err) {
            this.#log.warn({ err: String(err) }, 'bad message from LiveKit');
          }
        });
        ws.once('close', (code: number) =>
          this.#closed ? resolve() : reject(new Error(`WebSocket closed (${code})`)),
        );
        ws.once('error', reject);
      });
    } finally {
      clearInterval(loadTimer);
    }
  }

  #onMessage(msg: ServerMessage): void {
    const m = msg.message;
    switch (m.case) {
      case 'register':
        this.#id = m.value.workerId;
        this.#retries = 0;
        this.#log.info({ worker_id: this.#id, agent_name: this.#opts.agentName }, 'registered worker');
        this.#reportLoad();
        break;
      case 'availability':
        void this.#availability(m.value).catch((err) =>
          this.#log.error({ err: String(err), job_id: m.value.job?.id }, 'call failed to start'),
        );
        break;
      case 'assignment': {
        const id = m.value.job?.id ?? '';
        const resolve = this.#pending.get(id);
        this.#pending.delete(id);
        resolve?.({ token: m.value.token, url: m.value.url });
        break;
      }
      case 'termination':
        void this.#endCall(m.value.jobId, 'terminated by LiveKit');
        break;
      default:
        break;
    }
  }

  async #availability(req: AvailabilityRequest): Promise<void> {
    const job = req.job;
    if (!job) return;
    const reserved = this.#calls.size + this.#pending.size;
    if (this.#draining || this.#closed || !this.#opts.accept(reserved)) {
      this.#send({ case: 'availability', value: { jobId: job.id, available: false } });
      return;
    }
    const acceptArguments = { identity: `agent-${job.id}`, name: this.#opts.agentName, metadata: '' };
    const assignment = new Promise<Assignment>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.#pending.delete(job.id)) reject(new Error('no assignment from LiveKit'));
      }, ASSIGNMENT_TIMEOUT_MS);
      this.#pending.set(job.id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
    });
    this.#send({
      case: 'availability',
      value: {
        jobId: job.id,
        available: true,
        participantIdentity: acceptArguments.identity,
        participantName: acceptArguments.name,
        participantMetadata: '',
        participantAttributes: { 'lk.agent.name': this.#opts.agentName },
      },
    });
    const { token, url } = await assignment;
    this.#startCall(job, { acceptArguments, token, url: url || this.#opts.wsUrl });
  }

  #startCall(
    job: Job,
    a: { acceptArguments: { identity: string; name: string; metadata: string }; token: string; url: string },
  ) {
    const room = new Room();
    const call: ActiveCall = { room, ctx: undefined as unknown as JobContext };
    const ctx = new JobContext(
      this.#proc,
      {
        job,
        acceptArguments: a.acceptArguments,
        url: a.url,
        token: a.token,
        workerId: this.#id ?? '',
        apiKey: this.#opts.apiKey,
        apiSecret: this.#opts.apiSecret,
      },
      room,
      () => undefined,
      (reason) => void this.#endCall(job.id, reason),
      // The only inference the framework would route here is its end-of-turn model, which
      // our sessions never ask (see skipUnusedEotInference).
      undefined as never,
    );
    call.ctx = ctx;
    this.#calls.set(job.id, call);
    this.#reportLoad();
    room.on(RoomEvent.Disconnected, () => void this.#endCall(job.id, 'room disconnected'));
    call.entry = runWithJobContextAsync(ctx, () => this.#opts.entry(ctx)).catch((err) => {
      this.#log.error(
        { job_id: job.id, err: err instanceof Error ? err.message : String(err) },
        'call crashed',
      );
      void this.#endCall(job.id, 'call crashed');
    });
  }

  /** Once per call: its shutdown callbacks (goodbye, finalize, flush), then leave the room. */
  #endCall(jobId: string, reason: string): Promise<void> {
    const call = this.#calls.get(jobId);
    if (!call) return Promise.resolve();
    call.closing ??= (async () => {
      const bounded = (p: Promise<unknown>, what: string) =>
        withTimeout(p, CALL_SHUTDOWN_MS, what).catch((err: Error) =>
          this.#log.warn({ job_id: jobId, err: err.message }, 'call shutdown incomplete'),
        );
      // In the call's context, as the framework runs them (they may ask getJobContext()).
      await bounded(
        runWithJobContextAsync(call.ctx, () =>
          Promise.allSettled(call.ctx.shutdownCallbacks.map((cb) => Promise.resolve().then(() => cb()))),
        ),
        'shutdown callbacks',
      );
      await bounded(call.entry ?? Promise.resolve(), 'call entry');
      await call.room.disconnect().catch(() => undefined);
      this.#calls.delete(jobId);
      this.#log.debug({ job_id: jobId, reason }, 'call closed');
      this.#reportLoad();
    })();
    return call.closing;
  }

  #reportLoad(): void {
    if (!this.#id) return;
    const load = this.#opts.load(this.#calls.size);
    const full = this.#draining || load >= this.#opts.loadThreshold;
    this.#send({
      case: 'updateWorker',
      value: {
        status: full ? WorkerStatus.WS_FULL : WorkerStatus.WS_AVAILABLE,
        load: this.#draining ? 1 : load,
        jobCount: this.#calls.size,
      },
    });
  }

  #send(message: OutgoingMessage): void {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(new WorkerMessage({ message }).toBinary());
  }
}
