import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { type Pcm, readMonoWav } from '../../../src/audio/clip.js';
import { MemoryEventSink } from '../../../src/events/index.js';
import { FakeConversation } from '../../../src/pipeline/fake-conversation.js';
import { simulateCall } from '../../../src/pipeline/simulator.js';
import { FakeSTT, FakeTTS } from '../../../src/providers/fake/index.js';
import { readPcm16Wav, rmsDbfs } from '../../helpers/wav.js';

/**
 * The simulator core end to end: real AgentSession, real silero VAD on real (flite) speech,
 * real turn taking and interruptions; fake STT (transcripts via side channel) and fake TTS.
 */

const dir = mkdtempSync(join(tmpdir(), 'pipeline-sim-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
async function flite(text: string): Promise<Pcm> {
  const path = join(dir, `say-${n++}.wav`);
  execFileSync('flite', ['-voice', 'slt', '-t', text, '-o', path]);
  return readMonoWav(path);
}

describe('simulateCall', () => {
  it('runs a scripted call in real time: turns, agent audio, latency, events', async () => {
    const sink = new MemoryEventSink();
    const registry = new Registry();
    const port = new FakeConversation({ slots: ['name', 'date'] });
    const agentWav = join(dir, 'agent.wav');
    const result = await simulateCall({
      port,
      synthesize: flite,
      script: {
        name: 'two-slots',
        turns: [{ say: 'my name is John Smith' }, { say: 'next Tuesday please' }],
      },
      sink,
      registry,
      agentWavPath: agentWav,
      conversationWavPath: join(dir, 'conversation.wav'),
    });

    expect(result.errors).toEqual([]);
    expect(result.ended_by).toBe('hangup');
    expect(result.flow).toBe('fake');
    expect(result.final_state).toBe('done');
    expect(result.slots).toEqual({ name: 'my name is John Smith', date: 'next Tuesday please' });
    expect(result.turns).toEqual([
      { role: 'agent', text: 'Hello! What is your name?', state: 'ask_name' },
      { role: 'user', text: 'my name is John Smith', state: 'ask_name' },
      { role: 'agent', text: 'Got it, my name is John Smith. What is your date?', state: 'ask_date' },
      { role: 'user', text: 'next Tuesday please', state: 'ask_date' },
      { role: 'agent', text: 'Thank you, you are all set. Goodbye!', state: 'done' },
    ]);
    expect(result.transitions.map((t) => `${t.from}->${t.to}`)).toEqual([
      'greeting->ask_name',
      'ask_name->ask_date',
      'ask_date->done',
    ]);

    // the agent was heard: three replies of tone, clearly not silence
    expect(result.agent_audio.segments).toBe(3);
    expect(result.agent_audio.duration_ms).toBeGreaterThan(500);
    expect(result.agent_audio.rms_dbfs).toBeGreaterThan(-30);
    const wav = readPcm16Wav(agentWav);
    expect(wav.sampleRate).toBe(16000);
    expect(rmsDbfs(wav.samples)).toBeGreaterThan(-30);

    // latency: two user turns, every stage measured, values plausible for VAD endpointing
    expect(result.latency.turns).toHaveLength(2);
    for (const t of result.latency.turns) {
      expect(t.eou_ms).toBeGreaterThan(100);
      expect(t.eou_ms).toBeLessThan(3000);
      expect(t.stt_ms).not.toBeNull();
      expect(t.llm_ttft_ms).toBeGreaterThanOrEqual(0);
      expect(t.llm_ttft_ms).toBeLessThan(200);
      expect(t.tts_ttfb_ms).toBeGreaterThanOrEqual(0);
      expect(t.tts_ttfb_ms).toBeLessThan(200);
      expect(t.v2v_ms).toBeGreaterThan(t.eou_ms! - 50);
      expect(t.v2v_ms).toBeLessThan(3000);
    }
    expect(result.latency.p50_v2v_ms).toBeGreaterThan(100);
    expect(result.latency.p95_v2v_ms).toBeGreaterThanOrEqual(result.latency.p50_v2v_ms!);

    // call events: lifecycle, 5 turns, 5 stages x 2 turns + summaries, no errors
    expect(sink.ofType('call.started')).toHaveLength(1);
    expect(sink.ofType('call.ended')[0]!.payload).toMatchObject({
      status: 'COMPLETED',
      final_state: 'done',
      reason: 'hangup',
    });
    expect(sink.ofType('turn').map((e) => [e.payload.turn_number, e.payload.role])).toEqual([
      [0, 'agent'],
      [1, 'user'],
      [2, 'agent'],
      [3, 'user'],
      [4, 'agent'],
    ]);
    const metricNames = sink.ofType('metric').map((e) => e.payload.name);
    expect(metricNames.filter((m) => m === 'latency.v2v_ms')).toHaveLength(2);
    expect(metricNames).toContain('latency.v2v_ms.p95');
    expect(sink.ofType('error')).toHaveLength(0);
    expect(await registry.metrics()).toContain(
      'voice_agent_turn_latency_seconds_count{stage="v2v",provider="simulated",flow="fake"} 2',
    );
  });

  it('barges in: the caller interrupts a long reply and the agent answers the interruption', async () => {
    const port = new FakeConversation({ slots: ['name', 'date'] });
    const result = await simulateCall({
      port,
      synthesize: flite,
      // long agent replies (~3 s) so the caller can cut in
      providers: { tts: new FakeTTS({ msPerChar: 70 }) },
      script: { turns: [{ say: 'Anna' }, { say: 'tomorrow morning please', barge_in_after_ms: 300 }] },
    });
    expect(result.errors).toEqual([]);
    expect(result.agent_audio.interrupted_segments).toBe(1);
    const interrupted = result.turns.find((t) => t.interrupted);
    expect(interrupted).toMatchObject({ role: 'agent', text: 'Got it, Anna. What is your date?' });
    expect(result.slots).toEqual({ name: 'Anna', date: 'tomorrow morning please' });
    expect(result.turns.at(-1)).toMatchObject({
      role: 'agent',
      text: 'Thank you, you are all set. Goodbye!',
    });
  });

  it('runs fast with DTMF, engine failure (apology) and transfer', async () => {
    const sink = new MemoryEventSink();
    const port = new FakeConversation({ slots: ['name', 'date'], failOnTurn: 0 });
    const stt = new FakeSTT();
    const started = Date.now();
    const result = await simulateCall({
      port,
      synthesize: flite,
      fast: true,
      sink,
      providers: { stt },
      script: {
        turns: [{ dtmf: '5' }, { say: 'hello there' }, { say: 'Bob' }, { dtmf: '0' }, { say: 'never said' }],
      },
    });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.ended_by).toBe('transfer');
    expect(result.actions).toEqual([{ type: 'transfer', reason: 'caller asked for an operator' }]);
    expect(result.final_state).toBe('transferred');
    expect(result.turns.map((t) => `${t.role}: ${t.text}`)).toEqual([
      'agent: Hello! What is your name?',
      'user: [DTMF 5]',
      'agent: You pressed 5.',
      'user: hello there',
      "agent: I'm sorry, I'm having trouble right now. Could you say that again?",
      'user: Bob',
      'agent: Got it, Bob. What is your date?',
      'user: [DTMF 0]',
      'agent: Transferring you to an operator.',
    ]);
    expect(stt.pending).toEqual([]); // the unsaid turn was never queued
    expect(result.errors.map((e) => e.error_type)).toEqual(['engine_error']);
    expect(sink.ofType('error')[0]!.payload).toMatchObject({ error_type: 'engine_error', severity: 'high' });
  });

  it('reprompts after the no-input timeout and hangs up after the second', async () => {
    const port = new FakeConversation({ slots: ['name'] });
    const result = await simulateCall({
      port,
      fast: true,
      controller: { noInputTimeoutMs: 300 },
      script: { turns: [{ silence_ms: 5000 }] },
    });
    expect(result.ended_by).toBe('hangup');
    expect(result.duration_ms).toBeLessThan(4000);
    expect(result.turns.map((t) => t.text)).toEqual([
      'Hello! What is your name?',
      'Are you still there?',
      'I did not hear anything. Goodbye.',
    ]);
    expect(result.actions).toEqual([{ type: 'hangup', reason: 'no_input' }]);
  });
});
