/**
 * Pipeline overhead benchmark: how much latency does our layer add to a user turn?
 *
 * Runs N calls of K user turns each through a real AgentSession (no room; custom audio in /
 * out) with instant FAKE providers, in two configurations, interleaved call by call:
 *
 *   bare     AgentSession + Agent + FakeLLM (the framework alone)
 *   adapter  AgentSession + ConversationAgent (engine adapter → FakeConversation engine)
 *            + LatencyMeter (Prometheus histograms) + CallRecorder (turn / metric / error
 *            events into an in-memory EventSink)
 *
 * Per turn it measures, identically in both, final transcript → first reply audio frame at
 * the output (end-of-turn decision, reply generation, TTS, forwarding). Turn detection is
 * the STT's end of speech with zero endpointing delay and no VAD, so nothing wall-clock
 * bound hides the difference. Overhead = adapter − bare at p50 / p95. It also times our
 * instrumentation alone (meter + recorder handling one turn's events) in a tight loop.
 *
 *   npm run bench:latency                 # build, then node dist/bench/latency.js
 *   node dist/bench/latency.js --calls 20 --turns 4 [--no-write]
 */
import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { type metrics, voice } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { Registry } from 'prom-client';
import { MemoryEventSink } from '../src/events/index.js';
import { CaptureAudioOutput, PushAudioInput } from '../src/pipeline/audio-io.js';
import { CallRecorder } from '../src/pipeline/call-recorder.js';
import { ConversationController } from '../src/pipeline/conversation-adapter.js';
import { FakeConversation } from '../src/pipeline/fake-conversation.js';
import { LatencyMeter, percentile } from '../src/pipeline/latency-meter.js';
import { ensureAgentsLogger } from '../src/pipeline/logging.js';
import { FakeLLM, FakeSTT, FakeTTS } from '../src/providers/fake/index.js';

/** bare: the framework alone; adapter: ours on the classic path; fast: ours on the fast path (PIPELINE_PATH). */
type Kind = 'bare' | 'adapter' | 'fast';

const { values: args } = parseArgs({
  options: {
    calls: { type: 'string', default: '20' },
    turns: { type: 'string', default: '4' },
    out: { type: 'string', default: 'docs/BENCHMARKS.md' },
    'no-write': { type: 'boolean', default: false },
  },
});
const CALLS = Number(args.calls);
const TURNS = Number(args.turns);
const SAMPLE_RATE = 16000;
const FRAME = 320; // 20 ms

function frame(level: number, n: number): AudioFrame {
  const data = new Int16Array(FRAME);
  if (level > 0)
    for (let i = 0; i < FRAME; i++)
      data[i] = Math.round(level * Math.sin((2 * Math.PI * 220 * (n * FRAME + i)) / SAMPLE_RATE));
  return new AudioFrame(data, SAMPLE_RATE, 1, FRAME);
}

interface CallResult {
  turnMs: number[];
  events: number;
}

async function runCall(kind: Kind, callIndex: number): Promise<CallResult> {
  const stt = new FakeSTT({ endSilenceMs: 100, minSpeechMs: 40 });
  const tts = new FakeTTS({ msPerChar: 1, minMs: 40, maxMs: 200 });
  const session = new voice.AgentSession({
    stt,
    tts,
    vad: null,
    userAwayTimeout: null,
    turnHandling: {
      turnDetection: 'stt',
      endpointing: { mode: 'fixed', minDelay: 0, maxDelay: 0 },
      interruption: { enabled: false },
      preemptiveGeneration: { enabled: false },
    },
  });
  const input = new PushAudioInput();
  let firstFrame: ((at: number) => void) | undefined;
  const output = new CaptureAudioOutput({
    realtime: false,
    onFirstFrame: () => firstFrame?.(performance.now()),
  });
  session.input.audio = input;
  session.output.audio = output;

  const sink = new MemoryEventSink();
  let agent: voice.Agent;
  let detach: (() => void)[] = [];
  let meter: LatencyMeter | undefined;
  if (kind !== 'bare') {
    const port = new FakeConversation({ slots: Array.from({ length: TURNS + 1 }, (_, i) => `slot${i}`) });
    const controller = new ConversationController({ port, noInputTimeoutMs: null });
    const recorder = new CallRecorder({
      callId: crypto.randomUUID(),
      sink,
      stateAtUserTurn: (id) => controller.stateAtUserTurn(id),
      currentState: () => port.state,
    });
    meter = new LatencyMeter({ registry, onTurn: (t) => recorder.recordLatency(t) });
    detach.push(recorder.attach(session));
    agent = controller.createAgent({ trimTtsSilence: kind === 'fast' });
  } else {
    agent = new (class extends voice.Agent {
      override async onEnter() {
        this.session.say('Hello! What is your slot0?');
      }
    })({ instructions: '', llm: new FakeLLM() });
  }

  let transcribedAt = 0;
  session.on(voice.AgentSessionEventTypes.UserInputTranscribed, (ev) => {
    if (ev.isFinal) transcribedAt = performance.now();
  });
  const states: voice.AgentState[] = [];
  let onState: (() => void) | undefined;
  session.on(voice.AgentSessionEventTypes.AgentStateChanged, (ev) => {
    states.push(ev.newState);
    onState?.();
  });
  const waitListening = (timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${kind} call ${callIndex}: agent did not finish (${states.join(',')})`)),
        timeoutMs,
      );
      onState = () => {
        if (session.agentState === 'listening' && states.includes('speaking')) {
          clearTimeout(timer);
          onState = undefined;
          resolve();
        }
      };
      onState();
    });

  await session.start({ agent });
  if (meter) detach.push(meter.attach(session));
  await waitListening(5000); // greeting
  const turnMs: number[] = [];
  let n = 0;
  for (let t = 0; t < TURNS; t++) {
    states.length = 0;
    stt.pushTranscript(`answer ${t}`);
    const replied = new Promise<number>((resolve) => {
      firstFrame = resolve;
    });
    for (let i = 0; i < 15; i++) input.push(frame(8000, n++)); // 300 ms of "speech"
    for (let i = 0; i < 10; i++) input.push(frame(0, n++)); // 200 ms of silence ends it
    const at = await replied;
    turnMs.push(at - transcribedAt);
    await waitListening(5000);
  }
  for (const d of detach) d();
  detach = [];
  meter?.finish();
  await session.close();
  await input.close();
  return { turnMs, events: sink.events.length };
}

/** Our instrumentation alone: one turn's worth of events through meter + recorder. */
function instrumentationCost(iterations: number): number {
  const sink = new MemoryEventSink();
  const recorder = new CallRecorder({ callId: crypto.randomUUID(), sink, currentState: () => 's' });
  const meter = new LatencyMeter({ registry, onTurn: (t) => recorder.recordLatency(t) });
  const eou: metrics.EOUMetrics = {
    type: 'eou_metrics',
    timestamp: 0,
    endOfUtteranceDelayMs: 500,
    transcriptionDelayMs: 100,
    onUserTurnCompletedDelayMs: 0,
    lastSpeakingTimeMs: 0,
    speechId: '',
  };
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const speechId = `s${i}`;
    meter.onMetrics({ ...eou, speechId, lastSpeakingTimeMs: 1000 * i });
    meter.onMetrics({
      type: 'llm_metrics',
      label: 'e',
      requestId: '',
      timestamp: 0,
      durationMs: 1,
      ttftMs: 1,
      cancelled: false,
      completionTokens: 0,
      promptTokens: 0,
      promptCachedTokens: 0,
      totalTokens: 0,
      tokensPerSecond: 0,
      speechId,
    });
    meter.onMetrics({
      type: 'tts_metrics',
      label: 't',
      requestId: '',
      timestamp: 0,
      ttfbMs: 2,
      durationMs: 3,
      audioDurationMs: 500,
      cancelled: false,
      charactersCount: 10,
      streamed: false,
      speechId,
    });
    meter.onAgentAudioStarted(1000 * i + 600);
    meter.onAgentListening();
    recorder.recordTurn('user', 'some words', 's');
    recorder.recordTurn('agent', 'a reply to them', 's');
    if (sink.events.length > 10_000) sink.events.length = 0;
  }
  return (performance.now() - started) / iterations;
}

function stats(values: number[]) {
  const r = (v: number | null) => (v === null ? Number.NaN : Math.round(v * 100) / 100);
  return {
    n: values.length,
    p50: r(percentile(values, 50)),
    p95: r(percentile(values, 95)),
    mean: r(values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)),
  };
}

const registry = new Registry();

async function main(): Promise<void> {
  ensureAgentsLogger('error');
  const samples: Record<Kind, number[]> = { bare: [], adapter: [], fast: [] };
  let events = 0;
  // one warm-up call each (JIT, lazy imports)
  await runCall('bare', -1);
  await runCall('adapter', -1);
  await runCall('fast', -1);
  const started = Date.now();
  for (let i = 0; i < CALLS; i++) {
    const order: Kind[] = i % 2 === 0 ? ['bare', 'adapter', 'fast'] : ['fast', 'adapter', 'bare'];
    for (const kind of order) {
      const res = await runCall(kind, i);
      samples[kind].push(...res.turnMs);
      if (kind === 'adapter') events += res.events;
    }
  }
  const elapsed = (Date.now() - started) / 1000;
  const bare = stats(samples.bare);
  const adapter = stats(samples.adapter);
  const fast = stats(samples.fast);
  const overhead = {
    p50: Math.round((adapter.p50 - bare.p50) * 100) / 100,
    p95: Math.round((adapter.p95 - bare.p95) * 100) / 100,
    mean: Math.round((adapter.mean - bare.mean) * 100) / 100,
  };
  const perTurnInstr = instrumentationCost(20_000);
  const verdict = overhead.p95 < 5 ? 'PASS' : 'FAIL';

  const lines = [
    '| configuration | turns | p50 ms | p95 ms | mean ms |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| bare AgentSession + FakeLLM | ${bare.n} | ${bare.p50} | ${bare.p95} | ${bare.mean} |`,
    `| engine adapter + meter + event recording | ${adapter.n} | ${adapter.p50} | ${adapter.p95} | ${adapter.mean} |`,
    `| **overhead we add** | | **${overhead.p50}** | **${overhead.p95}** | **${overhead.mean}** |`,
    `| the same on the fast path (TTS leading-silence trim) | ${fast.n} | ${fast.p50} | ${fast.p95} | ${fast.mean} |`,
  ];
  console.log(lines.join('\n'));
  console.log(
    `\ninstrumentation alone (meter + recorder, one turn's events): ${(perTurnInstr * 1000).toFixed(1)} µs/turn`,
  );
  console.log(
    `${events} call events recorded; ${elapsed.toFixed(1)} s; target p95 overhead < 5 ms: ${verdict}`,
  );

  if (!args['no-write']) {
    const section = [
      '## Pipeline overhead',
      '',
      'What it measures: the latency our real-time layer adds to every user turn. Each call runs',
      'through a real `AgentSession` (no room; `PushAudioInput` / `CaptureAudioOutput`) with',
      'instant fake providers (FakeSTT, FakeTTS), in two configurations interleaved call by call:',
      '*bare* — the framework alone with `FakeLLM`; *adapter* — our `ConversationAgent` /',
      '`ConversationLLM` driving the `FakeConversation` engine, plus `LatencyMeter` (Prometheus',
      'histograms) and `CallRecorder` (turn / metric events into an in-memory sink). Per turn:',
      'final transcript → first reply audio frame at the output (end-of-turn decision, reply,',
      'TTS, forwarding). Turn detection is the STT end of speech with zero endpointing delay and',
      'no VAD, so no wall-clock wait hides the difference. Overhead = adapter − bare.',
      '',
      '```sh',
      'npm run bench:latency                # build, then: node dist/bench/latency.js',
      'node dist/bench/latency.js --calls 20 --turns 4 [--no-write]',
      '```',
      '',
      `Last run: ${new Date().toISOString().slice(0, 10)}, ${CALLS} calls × ${TURNS} turns per configuration, ${cpus().length} vCPUs, Node ${process.version}.`,
      '',
      ...lines,
      '',
      `Instrumentation alone (meter + recorder handling one turn's metrics and two turn events, tight loop): ${(perTurnInstr * 1000).toFixed(1)} µs per turn.`,
      '',
      `Target: p95 overhead < 5 ms — **${verdict}**. Differences of a fraction of a millisecond are`,
      'scheduling noise (both configurations share one event loop); the end-to-end numbers are',
      'dominated by the framework (speech scheduling, TTS stream adapter, audio forwarding).',
      'Real calls add the endpointing delay (VAD silence + `minEndpointingDelay`, ~0.55 s by',
      'default) and provider latency, which the simulator and the `latency.*` metrics report.',
      '',
    ].join('\n');
    let doc = '';
    try {
      doc = await readFile(args.out, 'utf8');
    } catch {
      doc = '# Benchmarks\n\n';
    }
    const start = doc.indexOf('## Pipeline overhead');
    if (start >= 0) {
      const next = doc.indexOf('\n## ', start + 1);
      doc = doc.slice(0, start) + section + (next >= 0 ? doc.slice(next + 1) : '');
    } else {
      doc = `${doc.trimEnd()}\n\n${section}`;
    }
    await writeFile(args.out, doc);
    console.log(`wrote section "Pipeline overhead" of ${args.out}`);
  }
  if (verdict === 'FAIL') process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
