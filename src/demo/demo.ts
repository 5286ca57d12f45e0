import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RoomEvent, type TextStreamReader } from '@livekit/rtc-node';
import { AgentDispatchClient, RoomServiceClient } from 'livekit-server-sdk';
import pg from 'pg';
import { flowMigrationSets, getFlowPackage } from '../../agents/index.js';
import { resample } from '../audio/resample.js';
import { RoomCaller } from '../caller/room-caller.js';
import type { Config } from '../config/config.js';
import { migrateUp } from '../persistence/migrate.js';
import { parseVoice, synthesizeText, voiceSampleRate } from '../providers/local/synth.js';
import { decodeCallerAudio, loadSimulationScript } from '../simulate/script.js';
import { LocalStack } from '../stack/stack.js';
import { sleep } from '../util/async.js';
import { dtmfCode, httpUrl } from '../worker/call-actions.js';
import { signDispatchMetadata } from '../worker/dispatch-signature.js';
import { BackgroundService } from './services.js';

/**
 * `npm run demo`: the product end to end on this machine. Brings up the local stack, applies
 * migrations, starts a worker and a persister, places a call into a LiveKit room with a
 * scripted caller (flite voice, or WAV files), prints the live transcript as the agent
 * publishes it, then the per-turn latency the worker measured and what Postgres holds.
 */
export interface DemoOptions {
  script: string;
  /** Keep the worker and persister running afterwards (they are stopped by default). */
  keep?: boolean;
  print?: (line: string) => void;
}

const RATE = 16000;

export async function runDemo(
  cfg: Config,
  options: DemoOptions,
): Promise<{ callId: string; status: string }> {
  const print = options.print ?? ((l: string) => console.log(l));
  const step = (s: string) => print(`\n\u001b[1m== ${s}\u001b[0m`);

  step('Local stack');
  const stack = new LocalStack(cfg);
  await stack.up();
  for (const r of await stack.status())
    print(`  ${r.name.padEnd(15)} ${r.healthy ? 'ok' : 'DOWN'}  ${r.detail}`);

  step('Database migrations');
  const migrated = await migrateUp(cfg.DATABASE_URL, { flows: flowMigrationSets() });
  print(`  ${migrated.applied.length ? `applied ${migrated.applied.join(', ')}` : 'schema up to date'}`);

  step('Worker and persister');
  const agentName = `${cfg.AGENT_NAME}-demo`;
  const env = {
    AGENT_NAME: agentName,
    WORKER_IDLE_PROCESSES: '1',
    LOG_LEVEL: 'info',
    WORKER_LOAD_INCLUDE_CPU: 'false',
  };
  const logDir = join(cfg.STACK_DIR, 'logs');
  const persister = new BackgroundService('demo-persister', ['persister'], env, logDir);
  const worker = new BackgroundService('demo-worker', ['worker', 'start', '--http-port', '0'], env, logDir);
  const pool = new pg.Pool({ connectionString: cfg.DATABASE_URL, max: 2 });
  try {
    const loaded = await loadSimulationScript(resolve(options.script));
    const script = loaded.script;
    // The script's flow (FLOW when it names none) may need to undo what earlier demo calls
    // left (the same scripted call again).
    const demo = getFlowPackage(script.flow ?? cfg.FLOW).demo;
    for (const line of (await demo?.prepare?.(pool)) ?? []) print(`  ${line}`);
    await persister.waitFor(/persister started/, 'the persister');
    await worker.waitFor(/registered worker/i, 'the worker');
    print(`  worker "${agentName}" registered with ${cfg.LIVEKIT_URL} (log ${worker.logPath})`);
    print(`  persister consuming "${cfg.EVENT_QUEUE}" (log ${persister.logPath})`);

    step(`Call (${options.script}, provider ${cfg.resolvedProvider})`);
    const roomName = `demo-${randomBytes(4).toString('hex')}`;
    const rooms = new RoomServiceClient(
      httpUrl(cfg.LIVEKIT_URL),
      cfg.LIVEKIT_API_KEY,
      cfg.LIVEKIT_API_SECRET,
    );
    await rooms.createRoom({ name: roomName, emptyTimeout: 60 });
    const caller = await RoomCaller.join({
      url: cfg.LIVEKIT_URL,
      apiKey: cfg.LIVEKIT_API_KEY,
      apiSecret: cfg.LIVEKIT_API_SECRET,
      room: roomName,
      identity: 'demo-caller',
    });
    const disconnected = new Promise<void>((r) => caller.room.once(RoomEvent.Disconnected, () => r()));
    showLiveTranscript(caller, print);
    await new AgentDispatchClient(
      httpUrl(cfg.LIVEKIT_URL),
      cfg.LIVEKIT_API_KEY,
      cfg.LIVEKIT_API_SECRET,
    ).createDispatch(roomName, agentName, {
      metadata: JSON.stringify(
        signDispatchMetadata(
          {
            flow: script.flow,
            ...(script.now ? { now: script.now } : {}),
            ...(script.settings ? { settings: script.settings } : {}),
          },
          { secret: cfg.DISPATCH_SIGNING_SECRET, room: roomName },
        ),
      ),
    });

    const voice = parseVoice(script.voice ?? 'slt');
    const heardReply = [] as number[];
    await caller.waitForAgentTurn({ timeoutMs: 30_000 });
    for (const turn of script.turns) {
      if (caller.room.connectionState !== 1 /* connected */ && caller.room.remoteParticipants.size === 0)
        break;
      const since = Date.now();
      if ('say' in turn || 'audio' in turn) {
        const samples =
          'say' in turn
            ? resample(await synthesizeText(turn.say, voice), voiceSampleRate(voice), RATE)
            : decodeCallerAudio(await readFile(join(loaded.dir, turn.audio)), turn.audio).samples;
        await caller.say(samples);
      } else if ('silence_ms' in turn) {
        await sleep(turn.silence_ms);
      } else if ('dtmf' in turn) {
        for (const d of turn.dtmf) await caller.room.localParticipant?.publishDtmf(dtmfCode(d) ?? 0, d);
      }
      const sent = caller.lastUtteranceEndAt ?? since;
      if (await caller.waitForAgentTurn({ since, timeoutMs: 20_000 })) {
        if (caller.firstAgentAudioAfter(sent) !== undefined)
          heardReply.push(caller.firstAgentAudioAfter(sent)! - sent);
      }
    }
    await Promise.race([disconnected, new Promise((r) => setTimeout(r, 8000))]);
    await caller.hangup();

    step('What the worker measured (ms, per caller turn)');
    const call = await waitForCall(pool, roomName);
    const rows = await latencyRows(pool, call.id);
    print('  turn   eou    stt   engine  tts_ttfb   v2v');
    for (const r of rows) {
      const f = (v: number | undefined) => (v === undefined ? '     -' : v.toFixed(0).padStart(6));
      print(
        `  ${String(r.turn).padStart(4)} ${f(r.eou_ms)} ${f(r.stt_ms)} ${f(r.llm_ttft_ms)}    ${f(r.tts_ttfb_ms)} ${f(r.v2v_ms)}`,
      );
    }
    if (heardReply.length) {
      const sorted = [...heardReply].sort((a, b) => a - b);
      print(
        `  heard by the caller (end of utterance → first agent audio): median ${sorted[Math.floor(sorted.length / 2)]} ms`,
      );
    }

    step('Persisted in Postgres');
    print(
      `  conversation ${call.id}: ${call.status}, ${call.duration_seconds ?? '?'} s, final state ${call.final_state ?? '-'}`,
    );
    for (const [table, n] of await counts(pool, call.id, demo?.tables ?? []))
      print(`  ${table.padEnd(20)} ${n} rows`);
    for (const line of (await demo?.report?.(pool, call.id)) ?? []) print(`  ${line}`);
    return { callId: call.id, status: call.status };
  } finally {
    await pool.end();
    if (!options.keep) await Promise.all([worker.stop(), persister.stop()]);
  }
}

function showLiveTranscript(caller: RoomCaller, print: (l: string) => void): void {
  caller.room.registerTextStreamHandler('lk.transcription', (reader: TextStreamReader) => {
    void (async () => {
      const attrs = reader.info.attributes ?? {};
      const ours = caller.room.localParticipant?.trackPublications;
      const userTrack = [...(ours?.values() ?? [])].some((p) => p.sid === attrs['lk.transcribed_track_id']);
      // The caller's words come as interim streams then a final one; the agent's reply is one
      // streamed (delta) text whose attributes say final=false because they are sent first.
      const text = (await reader.readAll()).trim();
      if (!text || (userTrack && attrs['lk.transcription_final'] !== 'true')) return;
      print(`  ${userTrack ? 'caller' : 'agent '}  ${text}`);
    })().catch(() => undefined);
  });
}

interface CallRow {
  id: string;
  status: string;
  duration_seconds: number | null;
  final_state: string | null;
}

async function waitForCall(pool: pg.Pool, roomName: string): Promise<CallRow> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await pool.query<CallRow>(
      `SELECT id, status, duration_seconds, final_state FROM conversations
       WHERE room_name = $1 AND ended_at IS NOT NULL`,
      [roomName],
    );
    if (r.rows[0]) {
      await sleep(1500); // the last batch of metrics
      return r.rows[0];
    }
    if (Date.now() > deadline) throw new Error(`the call in room ${roomName} was not persisted within 30 s`);
    await sleep(300);
  }
}

type LatencyRow = { turn: number } & Partial<Record<string, number>>;

async function latencyRows(pool: pg.Pool, callId: string): Promise<LatencyRow[]> {
  const r = await pool.query<{ name: string; v: number; turn: number }>(
    `SELECT metric_name AS name, metric_value::float AS v, (tags->>'turn')::int AS turn
     FROM system_metrics WHERE conversation_id = $1 AND tags ? 'turn' ORDER BY time`,
    [callId],
  );
  const byTurn = new Map<number, LatencyRow>();
  for (const m of r.rows) {
    const row = byTurn.get(m.turn) ?? { turn: m.turn };
    row[m.name.replace(/^latency\./, '')] = m.v;
    byTurn.set(m.turn, row);
  }
  return [...byTurn.values()].sort((a, b) => a.turn - b.turn);
}

async function counts(
  pool: pg.Pool,
  callId: string,
  flowTables: readonly string[],
): Promise<[string, number][]> {
  const tables = [
    'conversation_turns',
    'state_transitions',
    'extracted_slots',
    'system_metrics',
    'call_events',
    'error_logs',
    ...flowTables,
  ];
  const out: [string, number][] = [];
  for (const t of tables) {
    const r = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${t} WHERE conversation_id = $1`, [
      callId,
    ]);
    out.push([t, Number(r.rows[0]?.n ?? 0)]);
  }
  return out;
}
