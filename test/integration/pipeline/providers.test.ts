import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Pcm, readMonoWav } from '../../../src/audio/clip.js';
import { loadConfig } from '../../../src/config/config.js';
import { FakeConversation } from '../../../src/pipeline/fake-conversation.js';
import { ensureAgentsLogger } from '../../../src/pipeline/logging.js';
import { simulateCall } from '../../../src/pipeline/simulator.js';
import { loadSileroVad } from '../../../src/pipeline/vad.js';
import { FakeSTT, FakeTTS } from '../../../src/providers/fake/index.js';
import { selectProviders } from '../../../src/providers/select.js';

/**
 * Provider selection against a local OpenAI-compatible server (OPENAI_BASE_URL): the openai
 * chain transcribes and speaks through it, and falls back to the local providers (fakes
 * here) when it fails, reporting each failure.
 */

const dir = mkdtempSync(join(tmpdir(), 'pipeline-providers-'));
let server: Server;
let baseURL = '';
let healthy = true;
const transcripts: string[] = [];
const requests: string[] = [];

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

beforeAll(async () => {
  ensureAgentsLogger('silent');
  server = createServer(async (req, res) => {
    await body(req);
    requests.push(`${req.method} ${req.url}`);
    if (!healthy) {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'down for the test' } }));
      return;
    }
    if (req.url === '/v1/audio/transcriptions') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ text: transcripts.shift() ?? '' }));
    } else if (req.url === '/v1/audio/speech') {
      // 600 ms of a 300 Hz tone, 24 kHz s16le ("pcm" response format)
      const samples = new Int16Array(24000 * 0.6);
      for (let i = 0; i < samples.length; i++)
        samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / 24000));
      res.writeHead(200, { 'content-type': 'audio/pcm' });
      res.end(Buffer.from(samples.buffer));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
async function flite(text: string): Promise<Pcm> {
  const path = join(dir, `say-${n++}.wav`);
  execFileSync('flite', ['-voice', 'slt', '-t', text, '-o', path]);
  return readMonoWav(path);
}

const cfg = () =>
  loadConfig({
    PROVIDER: 'openai',
    OPENAI_API_KEY: 'test-key',
    OPENAI_BASE_URL: baseURL,
    PROVIDER_TIMEOUT_MS: '3000',
  });

describe('selectProviders', () => {
  it('local: the local providers, no LLM', async () => {
    const local = { stt: new FakeSTT(), tts: new FakeTTS() };
    const selected = await selectProviders(loadConfig({ PROVIDER: 'local' }), {
      vad: await loadSileroVad(),
      local: () => local,
    });
    expect(selected.kind).toBe('local');
    expect(selected.stt).toBe(local.stt);
    expect(selected.tts).toBe(local.tts);
    expect(selected.llm).toBeUndefined();
  });

  it('openai: transcribes and speaks through an OpenAI-compatible server', async () => {
    healthy = true;
    requests.length = 0;
    transcripts.push('my name is Eve');
    const errors: unknown[] = [];
    const selected = await selectProviders(cfg(), {
      vad: await loadSileroVad(),
      local: () => ({
        stt: new FakeSTT({ fallback: () => 'LOCAL STT' }),
        tts: new FakeTTS({ frequencyHz: 1000 }),
      }),
      openai: { maxRetries: 0 },
      onError: (e) => errors.push(e),
    });
    expect(selected.chain).toEqual({
      stt: ['openai.STT', 'fake.STT'],
      tts: ['openai.TTS', 'fake.TTS'],
      llm: ['openai.LLM'],
    });
    const port = new FakeConversation({ slots: ['name', 'date'] });
    const result = await simulateCall({
      port,
      synthesize: flite,
      fast: true,
      providers: { stt: selected.stt, tts: selected.tts },
      script: { turns: [{ say: 'my name is Eve' }] },
    });
    await selected.close();
    expect(result.errors).toEqual([]);
    expect(errors).toEqual([]);
    expect(port.slots.name).toBe('my name is Eve');
    expect(requests.filter((r) => r === 'POST /v1/audio/transcriptions')).toHaveLength(1);
    expect(requests.filter((r) => r === 'POST /v1/audio/speech').length).toBeGreaterThanOrEqual(2);
    expect(result.agent_audio.rms_dbfs).toBeGreaterThan(-30);
  });

  it('openai down: falls back to the local providers, apologises and reports it', async () => {
    healthy = false;
    requests.length = 0;
    const errors: { error_type: string }[] = [];
    const localStt = new FakeSTT({ fallback: () => 'Eve' });
    const localTts = new FakeTTS();
    const selected = await selectProviders(cfg(), {
      vad: await loadSileroVad(),
      local: () => ({ stt: localStt, tts: localTts }),
      openai: { maxRetries: 0 },
      onError: (e) => errors.push(e),
    });
    const port = new FakeConversation({ slots: ['name', 'date'] });
    const result = await simulateCall({
      port,
      synthesize: flite,
      providers: { stt: selected.stt, tts: selected.tts },
      // real time: the switch happens while the caller talks, as on a call
      // the first utterance goes to OpenAI, fails and is lost; the second reaches the local STT
      script: { turns: [{ say: 'my name is Eve' }, { say: 'Eve' }] },
    });
    await selected.close();
    healthy = true;
    // the caller still hears the agent (local TTS) and is understood (local STT)
    expect(localTts.spoken).toContain('Hello! What is your name?');
    expect(result.agent_audio.rms_dbfs).toBeGreaterThan(-30);
    expect(result.turns.map((t) => `${t.role}: ${t.text}`)).toEqual([
      'agent: Hello! What is your name?',
      "agent: Sorry, I didn't catch that. Could you say it again?",
      'user: Eve',
      'agent: Got it, Eve. What is your date?',
    ]);
    expect(port.slots).toEqual({ name: 'Eve' });
    // every failure is on record: the failed requests and both switches to the local provider
    const types = [...errors.map((e) => e.error_type), ...result.errors.map((e) => e.error_type)];
    expect(types).toContain('stt_error');
    expect(types).toContain('tts_error');
    expect(types.filter((t) => t === 'provider_unavailable')).toHaveLength(2);
  }, 60_000);
});
