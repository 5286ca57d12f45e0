import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { ensureAgentsLogger, guardUnhandledRejections } from '../pipeline/logging.js';
import { formatSummary, LiveTranscriptSink } from '../simulate/report.js';
import { runSimulation } from '../simulate/run.js';
import { loadSimulationScript, needsRealTime, ScriptError } from '../simulate/script.js';

const QUIETER: string[] = ['error', 'fatal', 'silent'];

interface SimulateOptions {
  caller: string;
  flow?: string;
  now?: string;
  fast?: boolean;
  record?: string;
  json?: boolean;
}

/**
 * `voice-agent simulate`: one whole call through the real pipeline (VAD, STT, engine, TTS)
 * without LiveKit, Postgres or Redis. Stdout carries only the command's own output (the live
 * transcript, or exactly one JSON object); everything libraries print goes to stderr.
 */
export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('run one scripted call through the real pipeline with no server (see agents/<flow>/calls)')
    .requiredOption(
      '--caller <script.yaml>',
      'caller script: what the caller says, presses and leaves silent',
    )
    .option('--flow <name>', "flow to run (default: the script's flow, else FLOW)")
    .option(
      '--now <iso8601>',
      "the call's clock, e.g. 2025-03-05T15:00:00Z (default: the script's now, else the wall clock)",
    )
    .option(
      '--fast',
      'feed caller audio as fast as possible (latency numbers are then not wall-clock meaningful)',
    )
    .option('--record <out.wav>', "write the agent's audio (what the caller heard) to this WAV file")
    .option(
      '--json',
      'print exactly one JSON object (flow, final_state, slots, records, turns, transitions, latency, errors)',
    )
    .action(async (opts: SimulateOptions) => {
      const out = process.stdout.write.bind(process.stdout);
      // @livekit/agents' logger (and anything else) writes to process.stdout; the transcript
      // and the JSON object must be the only things there, so route the rest to stderr.
      const restoreStdout = redirectStdoutToStderr();
      const rejections: string[] = [];
      const unguard = guardUnhandledRejections((reason) => {
        rejections.push(reason instanceof Error ? reason.message : String(reason));
      });
      try {
        const print = (line: string) => out(`${line}\n`);
        await simulate(opts, print);
      } finally {
        unguard();
        restoreStdout();
      }
      if (rejections.length) {
        console.error(
          `voice-agent: ${rejections.length} unhandled rejection(s) during the call: ${rejections[0]}`,
        );
      }
      // Provider threads (decoders, VAD) may keep the loop alive after the call; the command is done.
      process.exit(0);
    });
}

async function simulate(opts: SimulateOptions, print: (line: string) => void): Promise<void> {
  const cfg = loadConfig();
  // The framework logs transcripts (`lk.pii.*` fields) at info and debug: never below warn here.
  ensureAgentsLogger(QUIETER.includes(cfg.LOG_LEVEL) ? cfg.LOG_LEVEL : 'warn');
  const loaded = await loadSimulationScript(opts.caller);
  if (opts.record) {
    const dir = dirname(resolve(opts.record));
    if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
      throw new ScriptError(`--record: directory ${dir} does not exist`);
    }
  }
  if (opts.fast && needsRealTime(loaded.script) && !opts.json) {
    console.error('voice-agent: note: --fast with barge_in_after_ms: the agent still plays in real time');
  }
  const name = loaded.script.name ?? opts.caller;
  const run = await runSimulation(loaded, {
    config: cfg,
    ...(opts.flow ? { flow: opts.flow } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    fast: opts.fast ?? false,
    ...(opts.record ? { recordPath: opts.record } : {}),
    ...(opts.json ? {} : { sink: new LiveTranscriptSink(print) }),
    onReady: ({ flow, now }) => {
      if (opts.json) return;
      const clock = now ? `clock ${now}` : 'wall clock';
      print(`simulating ${name}: flow ${flow}, ${clock}, ${opts.fast ? 'fast' : 'real time'}`);
    },
    // A barge-in only happens while the agent is audibly speaking.
    ...(opts.fast && needsRealTime(loaded.script) ? { simulator: { realtimePlayout: true } } : {}),
  });
  if (opts.json) {
    print(JSON.stringify(run.report));
    return;
  }
  print(
    formatSummary(run.report, {
      endedBy: run.result.ended_by,
      durationMs: run.result.duration_ms,
      failures: run.failures,
    }),
  );
  print(`providers: ${run.providers.kind} (stt ${run.providers.stt}, tts ${run.providers.tts})`);
  if (opts.record) print(`agent audio written to ${opts.record}`);
}

/** Sends writes to process.stdout to stderr until the returned function is called. */
function redirectStdoutToStderr(): () => void {
  const original = process.stdout.write;
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  return () => {
    process.stdout.write = original;
  };
}
