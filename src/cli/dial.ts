import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { AgentDispatchClient, RoomServiceClient } from 'livekit-server-sdk';
import pg from 'pg';
import { flowNames, isFlowName } from '../../agents/index.js';
import { type Config, loadConfig } from '../config/config.js';
import { OutboundPolicy } from '../outbound/policy.js';
import { sleep } from '../util/async.js';
import { UsageError } from '../util/usage-error.js';
import { signDispatchMetadata } from '../worker/dispatch-signature.js';
import type { JobMetadata } from '../worker/job-metadata.js';
import { requireUuid } from './control-common.js';

interface DialOptions {
  flow?: string;
  customer?: string;
  org?: string;
  ringTimeout: string;
  wait?: boolean;
  timeout?: string;
  json?: boolean;
}

/** What `dial --wait` reports: the call's row once the persister has finalized it. */
export interface DialOutcome {
  room: string;
  call_id: string;
  status: string;
  reason: string | null;
  direction: string | null;
  duration_seconds: number | null;
  started_at: string;
  ended_at: string;
}

/** Exit code of `dial --wait` for a call that did not complete (FAILED / INTERRUPTED). */
export const EXIT_NOT_COMPLETED = 2;

const NUMBER = /^\+?[0-9]{3,31}$/;

/**
 * `voice-agent dial NUMBER --flow NAME`: an outbound call. Creates a room
 * `${SIP_ROOM_PREFIX}out-<random>` and dispatches our agent (AGENT_NAME) into it with job
 * metadata `{"dial":{"number":…},"flow":…}`; the worker's job then dials the number through
 * the outbound trunk `sip setup` created (livekit-sip → SIP_OUTBOUND_ADDRESS), waits for the
 * answer and runs the flow. Not answered or busy → the call is recorded FAILED with the SIP
 * status as its reason. The number is never printed or logged here.
 */
export function registerDial(program: Command): void {
  program
    .command('dial')
    .description('call a number: the agent dials it through the outbound SIP trunk and runs a flow')
    .argument('<number>', 'the number to call, E.164 (e.g. +15550123)')
    .option('--flow <name>', `flow to run: ${flowNames.join(', ')} (default: FLOW)`)
    .option('--ring-timeout <seconds>', 'give up when nobody answers within this long', '30')
    .option(
      '--customer <id>',
      "the organization's customer being called: compliance is checked right before the dial",
    )
    .option('--org <id>', 'the organization placing the call (default: the default organization)')
    .option(
      '--wait',
      'wait until the call ends and print its outcome (read from Postgres; needs the persister)',
    )
    .option(
      '--timeout <seconds>',
      'with --wait: stop waiting after this long (default: ring timeout + MAX_CALL_SECONDS + 60)',
    )
    .option('--json', 'print JSON')
    .action(async (number: string, opts: DialOptions) => {
      const cfg = loadConfig();
      const compact = number.replace(/[\s().-]/g, '');
      if (!NUMBER.test(compact)) throw new UsageError('NUMBER must be a phone number such as +15550123');
      const flow = opts.flow ?? cfg.FLOW;
      if (!isFlowName(flow)) throw new UsageError(`unknown flow "${flow}" (one of: ${flowNames.join(', ')})`);
      const ringTimeout = Number(opts.ringTimeout);
      if (!Number.isInteger(ringTimeout) || ringTimeout < 1 || ringTimeout > 120) {
        throw new UsageError('--ring-timeout must be a whole number of seconds between 1 and 120');
      }

      const customerId = opts.customer ? requireUuid(opts.customer, '--customer') : undefined;
      const organizationId = opts.org ? requireUuid(opts.org, '--org') : undefined;
      const placed = await placeCall(cfg, {
        number: compact,
        flow,
        ringTimeout,
        ...(customerId ? { customerId } : {}),
        ...(organizationId ? { organizationId } : {}),
      });
      const print = (o: object, text: string) => console.log(opts.json ? JSON.stringify(o) : text);
      if (!opts.wait) {
        print(placed, `room ${placed.room}  dispatch ${placed.dispatch_id}  flow ${flow}`);
        return;
      }
      if (!opts.json)
        console.log(`room ${placed.room}  dispatch ${placed.dispatch_id}  flow ${flow}  (waiting)`);
      const timeoutS = opts.timeout ? Number(opts.timeout) : ringTimeout + cfg.MAX_CALL_SECONDS + 60;
      if (!Number.isFinite(timeoutS) || timeoutS <= 0)
        throw new UsageError('--timeout must be a positive number');
      const outcome = await waitForOutcome(cfg, placed.room, timeoutS * 1000);
      print(
        outcome,
        `${outcome.status}  reason ${outcome.reason ?? '-'}  duration ${outcome.duration_seconds ?? 0}s  call ${outcome.call_id}`,
      );
      if (outcome.status !== 'COMPLETED') process.exitCode = EXIT_NOT_COMPLETED;
    });
}

/** Creates the room and dispatches the agent; the job does the dialling. */
export async function placeCall(
  cfg: Config,
  call: {
    number: string;
    flow: string;
    ringTimeout?: number;
    /** The flow's settings for this call (signed with the dispatch, like the number). */
    settings?: Record<string, unknown>;
    organizationId?: string;
    /** The customer called: the worker checks compliance right before it dials. */
    customerId?: string;
  },
): Promise<{ room: string; dispatch_id: string; flow: string }> {
  // Refused numbers never reach the worker: same check (and count) the worker repeats.
  await OutboundPolicy.fromConfig(cfg).admit(call.number, call.organizationId);
  const host = cfg.LIVEKIT_URL.replace(/^ws(s?):\/\//, 'http$1://');
  const room = `${cfg.SIP_ROOM_PREFIX}out-${randomBytes(6).toString('hex')}`;
  const rooms = new RoomServiceClient(host, cfg.LIVEKIT_API_KEY, cfg.LIVEKIT_API_SECRET);
  // The agent joins within seconds; the room closes by itself if nobody ever does.
  await rooms.createRoom({ name: room, emptyTimeout: 120, departureTimeout: 20 });
  const metadata: JobMetadata = {
    flow: call.flow,
    dial: {
      number: call.number,
      ...(call.ringTimeout ? { ring_timeout_s: call.ringTimeout } : {}),
      ...(call.customerId ? { customer_id: call.customerId } : {}),
    },
    ...(call.settings ? { settings: call.settings } : {}),
    ...(call.organizationId ? { organization_id: call.organizationId } : {}),
  };
  const dispatcher = new AgentDispatchClient(host, cfg.LIVEKIT_API_KEY, cfg.LIVEKIT_API_SECRET);
  const dispatch = await dispatcher.createDispatch(room, cfg.AGENT_NAME, {
    metadata: JSON.stringify(signDispatchMetadata(metadata, { secret: cfg.DISPATCH_SIGNING_SECRET, room })),
  });
  return { room, dispatch_id: dispatch.id, flow: call.flow };
}

/** Polls the conversations row of the room until the call is finalized (ended_at set). */
export async function waitForOutcome(cfg: Config, room: string, timeoutMs: number): Promise<DialOutcome> {
  const pool = new pg.Pool({ connectionString: cfg.DATABASE_URL, max: 1 });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const r = await pool.query<DialOutcome>(
        `SELECT room_name AS room, id AS call_id, status, end_reason AS reason, direction,
                duration_seconds, started_at::text, ended_at::text
           FROM conversations WHERE room_name = $1 AND ended_at IS NOT NULL
          ORDER BY started_at DESC LIMIT 1`,
        [room],
      );
      if (r.rows[0]) return r.rows[0];
      if (Date.now() > deadline) {
        throw new UsageError(
          `no outcome for room ${room} after ${Math.round(timeoutMs / 1000)} s (is a worker with AGENT_NAME=${cfg.AGENT_NAME} and the persister running?)`,
        );
      }
      await sleep(500);
    }
  } finally {
    await pool.end();
  }
}
