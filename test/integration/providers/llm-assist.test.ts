import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAppointmentBookingFlow, FakeBookingStore } from '../../../agents/appointment-booking/index.js';
import { type Config, loadConfig } from '../../../src/config/config.js';
import { RecordingObserver, toolsFor } from '../../../src/conversation/index.js';
import type { ProposeRequest } from '../../../src/conversation/llm.js';
import {
  createOpenAIClient,
  OpenAILlmAssist as ExportedFromIndex,
  openAIOptionsFromConfig,
} from '../../../src/providers/openai/index.js';
import {
  LlmAssistError,
  type LlmAssistErrorReport,
  llmAssistFromConfig,
  missingFacts,
  OpenAILlmAssist,
} from '../../../src/providers/openai/llm-assist.js';
import { packageEngine } from '../../helpers/flows.js';

/**
 * OpenAILlmAssist against a fake OpenAI-compatible chat-completions server (node:http on
 * 127.0.0.1): what it sends, how tool calls become slot proposals, the client's timeout and
 * single retry, the phrase fact check, and the booking engine taking and refusing proposals.
 */

/** Wednesday 5 March 2025, 10:00 in New York (the clinic's zone). */
const NOW = new Date('2025-03-05T15:00:00Z');
const TZ = 'America/New_York';
const MODEL = 'fake-llm-1';
const TIMEOUT_MS = 300;

interface ChatBody {
  model: string;
  messages: { role: string; content: string }[];
  tools?: { type: string; function: { name: string; description: string; parameters: unknown } }[];
  tool_choice?: unknown;
  parallel_tool_calls?: unknown;
  temperature?: unknown;
}

type FakeReply =
  | { status?: number; headers?: Record<string, string>; body: unknown }
  | { hang: true }
  | { destroy: true };

interface Attempt {
  url: string;
  body: ChatBody;
  arrived: number;
  /** When the client gave up on a hanging request (its connection closed). */
  closed?: number;
}

/** A fake OpenAI-compatible server: answers POST /v1/chat/completions with `reply(body, n)`. */
class FakeOpenAIServer {
  readonly attempts: Attempt[] = [];
  reply: (body: ChatBody, n: number) => FakeReply = () => ({ body: completion({ content: '' }) });
  private server: Server | undefined;
  baseURL = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseURL = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  reset(): void {
    this.attempts.length = 0;
    this.reply = () => ({ body: completion({ content: '' }) });
  }

  get bodies(): ChatBody[] {
    return this.attempts.map((a) => a.body);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
      return;
    }
    const attempt: Attempt = {
      url: req.url,
      body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatBody,
      arrived: performance.now(),
    };
    this.attempts.push(attempt);
    res.on('close', () => {
      attempt.closed = performance.now();
    });
    const r = this.reply(attempt.body, this.attempts.length);
    if ('hang' in r) return; // never answers
    if ('destroy' in r) {
      req.socket.destroy();
      return;
    }
    res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...r.headers });
    res.end(JSON.stringify(r.body));
  }
}

let seq = 0;
/** A chat.completion response body in the OpenAI format. */
function completion(opts: { content?: string | null; toolCalls?: { name: string; arguments: string }[] }) {
  const toolCalls = opts.toolCalls?.map((t) => ({
    id: `call_${++seq}`,
    type: 'function',
    function: { name: t.name, arguments: t.arguments },
  }));
  return {
    id: `chatcmpl-${++seq}`,
    object: 'chat.completion',
    created: Math.floor(NOW.getTime() / 1000),
    model: MODEL,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: opts.content ?? null,
          ...(toolCalls?.length ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: toolCalls?.length ? 'tool_calls' : 'stop',
      },
    ],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  };
}

const call = (name: string, value: unknown) => ({ name, arguments: JSON.stringify({ value }) });
const serverError = (headers: Record<string, string> = {}): FakeReply => ({
  status: 500,
  headers,
  body: { error: { message: 'the fake server failed on purpose', type: 'server_error' } },
});

const fake = new FakeOpenAIServer();

function config(env: Record<string, string> = {}): Config {
  return loadConfig({
    PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-fake',
    OPENAI_BASE_URL: fake.baseURL,
    OPENAI_LLM_MODEL: MODEL,
    PROVIDER_TIMEOUT_MS: String(TIMEOUT_MS),
    ...env,
  });
}

/** An assist on the client llmAssistFromConfig builds (timeout, one retry), with a reporter. */
function assist(options: { phrase?: boolean } = {}) {
  const reports: LlmAssistErrorReport[] = [];
  const llm = new OpenAILlmAssist({
    client: createOpenAIClient(openAIOptionsFromConfig(config())),
    model: MODEL,
    phrase: options.phrase ?? false,
    onError: (e) => reports.push(e),
  });
  return { llm, reports };
}

const bookingFlow = () => createAppointmentBookingFlow({ store: new FakeBookingStore() });

function request(userText: string, slots: string[] = ['name', 'date']): ProposeRequest {
  return {
    flow: 'appointment-booking',
    state: 'collect_name',
    userText,
    tools: toolsFor(bookingFlow(), slots),
    slots: { intent: 'book' },
    now: NOW.toISOString(),
    timeZone: TZ,
    lastPrompt: 'May I have your full name, please?',
  };
}

beforeAll(() => fake.start());
afterAll(() => fake.stop());
afterEach(() => fake.reset());

describe('llmAssistFromConfig', () => {
  it('builds an OpenAILlmAssist on OPENAI_LLM_MODEL for the openai provider, nothing for local', () => {
    const llm = llmAssistFromConfig(config());
    expect(llm).toBeInstanceOf(OpenAILlmAssist);
    expect(ExportedFromIndex).toBe(OpenAILlmAssist);
    expect((llm as OpenAILlmAssist).model).toBe(MODEL);
    expect(llm?.phrase).toBeUndefined(); // rewording is opt-in
    expect(llmAssistFromConfig(loadConfig({ PROVIDER: 'local' }))).toBeUndefined();
    expect(llmAssistFromConfig(loadConfig({ OPENAI_API_KEY: 'sk-fake', OFFLINE: '1' }))).toBeUndefined();
  });
});

describe('sentiment against a fake OpenAI-compatible server', () => {
  it("sends the answer and its question, and reads the model's number", async () => {
    const { llm } = assist();
    fake.reply = () => ({ body: completion({ content: '0.7' }) });
    const score = await llm.sentiment('personalen var jättetrevlig', {
      language: 'sv-SE',
      question: 'Hur var servicen i kassan?',
    });
    expect(score).toBe(0.7);
    const body = fake.bodies[0]!;
    expect(body.messages[1]).toEqual({ role: 'user', content: 'personalen var jättetrevlig' });
    expect(body.messages[0]!.content).toContain('sv-SE');
    expect(body.messages[0]!.content).toContain('Hur var servicen i kassan?');
  });

  it('refuses an answer that is not a number from -1 to 1', async () => {
    const { llm } = assist();
    fake.reply = () => ({ body: completion({ content: 'Quite positive!' }) });
    await expect(llm.sentiment('great', { language: 'en-US' })).rejects.toThrow(/number from -1 to 1/);
    fake.reply = () => ({ body: completion({ content: '3' }) });
    await expect(llm.sentiment('great', { language: 'en-US' })).rejects.toBeInstanceOf(LlmAssistError);
  });
});

describe('proposeSlots against a fake OpenAI-compatible server', () => {
  it('sends the model, the slot tools with their zod schemas and the caller text; tool calls become proposals', async () => {
    const { llm, reports } = assist();
    fake.reply = () => ({
      body: completion({ toolCalls: [call('set_name', 'Grace Hopper'), call('set_date', '2025-03-07')] }),
    });
    const req = request('put it down for the admiral, Grace Hopper, on Friday');
    const proposals = await llm.proposeSlots(req);

    expect(proposals).toEqual([
      { slot: 'name', value: 'Grace Hopper' },
      { slot: 'date', value: '2025-03-07' },
    ]);
    expect(reports).toEqual([]);
    expect(fake.attempts).toHaveLength(1);
    const body = fake.bodies[0]!;
    expect(body.model).toBe(MODEL);
    expect(body.tool_choice).toBe('auto');
    expect(body.parallel_tool_calls).toBe(true);
    expect(body).not.toHaveProperty('temperature');
    expect(body.tools!.map((t) => t.function.name)).toEqual(['set_name', 'set_date', 'caller_intent']);
    expect(body.tools!.every((t) => t.type === 'function')).toBe(true);
    expect(body.tools![0]!.function).toEqual({
      name: 'set_name',
      description: req.tools[0]!.description,
      parameters: req.tools[0]!.parameters,
    });
    // the name slot's zod validator, as JSON Schema
    expect(body.tools![0]!.function.parameters).toMatchObject({
      type: 'object',
      properties: { value: { type: 'string', minLength: 2, maxLength: 100 } },
      required: ['value'],
    });
    expect(body.tools![2]!.function.parameters).toMatchObject({
      properties: { value: { enum: ['human', 'cancel', 'repeat'] } },
    });
    expect(body.messages).toHaveLength(2);
    expect(body.messages[1]).toEqual({ role: 'user', content: req.userText });
    const system = body.messages[0]!;
    expect(system.role).toBe('system');
    expect(system.content).toContain('appointment-booking');
    expect(system.content).toContain('collect_name');
    expect(system.content).toContain('May I have your full name, please?');
    expect(system.content).toContain(TZ);
    expect(system.content).toContain('Wednesday, March 5, 2025');
    expect(system.content).toContain('2025-03-05');
    expect(system.content).toContain('{"intent":"book"}');
  });

  it('returns [] when the model calls no tool', async () => {
    const { llm, reports } = assist();
    fake.reply = () => ({ body: completion({ content: "I'm not sure what they mean." }) });
    expect(await llm.proposeSlots(request('hmm let me think'))).toEqual([]);
    expect(reports).toEqual([]);
  });

  it('passes the pseudo tools through as yes_no / intent proposals', async () => {
    const { llm } = assist();
    fake.reply = () => ({
      body: completion({ toolCalls: [call('answer_yes_no', true), call('caller_intent', 'human')] }),
    });
    const req = {
      ...request('sure thing, but get me a person'),
      tools: toolsFor(bookingFlow(), [], { yesNo: true }),
    };
    expect(await llm.proposeSlots(req)).toEqual([
      { slot: 'yes_no', value: true },
      { slot: 'intent', value: 'human' },
    ]);
  });

  it('skips and reports malformed arguments and tools it did not offer, without the caller text', async () => {
    const { llm, reports } = assist();
    fake.reply = () => ({
      body: completion({
        toolCalls: [
          { name: 'set_name', arguments: '{"value": "Grace Hop' }, // truncated JSON
          call('set_date', '2025-03-07'),
          call('set_salary', 100000), // not offered
          { name: 'set_name', arguments: '"Grace Hopper"' }, // not an object
          { name: 'set_name', arguments: '{"name":"Grace Hopper"}' }, // no value
          { name: 'set_name', arguments: '' },
        ],
      }),
    });
    const proposals = await llm.proposeSlots(request('Grace Hopper, on Friday'));
    expect(proposals).toEqual([{ slot: 'date', value: '2025-03-07' }]);
    expect(reports.map((r) => r.error_type)).toEqual([
      'llm_tool_arguments_invalid',
      'llm_unknown_tool',
      'llm_tool_arguments_invalid',
      'llm_tool_arguments_invalid',
      'llm_tool_arguments_invalid',
    ]);
    expect(reports[0]!.message).toMatch(/set_name: arguments are not valid JSON/);
    for (const r of reports) expect(r.message).not.toMatch(/Grace|Hopper|Friday/);
  });

  it('retries a 500 once, then succeeds', async () => {
    const { llm } = assist();
    fake.reply = (_b, n) =>
      n === 1
        ? serverError({ 'retry-after-ms': '10' })
        : { body: completion({ toolCalls: [call('set_name', 'Ada Lovelace')] }) };
    expect(await llm.proposeSlots(request('the countess'))).toEqual([
      { slot: 'name', value: 'Ada Lovelace' },
    ]);
    expect(fake.attempts).toHaveLength(2);
    expect(fake.bodies[1]).toEqual(fake.bodies[0]);
  });

  it('gives up after one retry with an error that does not echo the server or the caller', async () => {
    const { llm } = assist();
    fake.reply = () => serverError({ 'retry-after-ms': '10' });
    const err = await llm.proposeSlots(request('the countess')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmAssistError);
    expect(err).toMatchObject({ error_type: 'llm_http_error', message: 'the LLM server answered HTTP 500' });
    expect(fake.attempts).toHaveLength(2);
  });

  it('reports a dropped connection as unavailable', async () => {
    const { llm } = assist();
    fake.reply = () => ({ destroy: true });
    await expect(llm.proposeSlots(request('the countess'))).rejects.toMatchObject({
      error_type: 'llm_unavailable',
    });
  });

  it('times out a hanging server within PROVIDER_TIMEOUT_MS per attempt (one retry)', async () => {
    const { llm } = assist();
    fake.reply = () => ({ hang: true });
    const t0 = performance.now();
    const err = await llm.proposeSlots(request('the countess')).catch((e: unknown) => e);
    const elapsed = performance.now() - t0;
    expect(err).toMatchObject({ name: 'LlmAssistError', error_type: 'llm_timeout' });
    expect(fake.attempts).toHaveLength(2);
    // the server sees the client's abort a moment later
    await vi.waitFor(() => expect(fake.attempts.every((a) => a.closed !== undefined)).toBe(true), {
      timeout: 1000,
    });
    for (const a of fake.attempts) {
      const held = a.closed! - a.arrived;
      expect(held).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(held).toBeLessThan(TIMEOUT_MS + 250);
    }
    // two attempts plus the SDK's back-off (at most 0.5 s before the only retry)
    expect(elapsed).toBeLessThan(2 * TIMEOUT_MS + 500 + 500);
  });
});

describe('phrase against a fake OpenAI-compatible server', () => {
  const reply =
    "You're booked for Friday, March 7th at 10:30 AM. Your confirmation code is A, F, 3, K, 9, Q.";
  const context = { flow: 'appointment-booking', state: 'rate', slots: {}, userText: 'yes please' };

  it('is absent unless enabled', () => {
    expect(assist().llm.phrase).toBeUndefined();
    expect(typeof assist({ phrase: true }).llm.phrase).toBe('function');
  });

  it('returns a rewording that keeps every fact, sending only the reply to reword', async () => {
    const { llm, reports } = assist({ phrase: true });
    const reworded =
      'All set! See you Friday, March 7th at 10:30 a.m. Your confirmation code is A F 3 K 9 Q.';
    fake.reply = () => ({ body: completion({ content: `"${reworded}"` }) });
    expect(await llm.phrase!(reply, context)).toBe(reworded);
    expect(reports).toEqual([]);
    const body = fake.bodies[0]!;
    expect(body.model).toBe(MODEL);
    expect(body).not.toHaveProperty('tools');
    expect(body.messages.at(-1)).toEqual({ role: 'user', content: reply });
    expect(JSON.stringify(body)).not.toContain('yes please'); // the caller's words are not sent
  });

  it('falls back to the original when the rewording drops a time', async () => {
    const { llm, reports } = assist({ phrase: true });
    fake.reply = () => ({
      body: completion({ content: "You're all set for Friday, March 7th. Your code is A, F, 3, K, 9, Q." }),
    });
    expect(await llm.phrase!(reply, context)).toBe(reply);
    expect(reports).toEqual([
      {
        error_type: 'llm_phrase_changed_facts',
        message: 'phrase: the rewording dropped 1 and added 0 fact(s); kept the template',
      },
    ]);
  });

  it('falls back when the rewording garbles the code or invents a number', async () => {
    const { llm } = assist({ phrase: true });
    fake.reply = () => ({
      body: completion({ content: "You're booked for Friday, March 7th at 10:30 AM. Code: A, F, 3, K, Q." }),
    });
    expect(await llm.phrase!(reply, context)).toBe(reply);
    fake.reply = () => ({
      body: completion({
        content: "You're booked for Friday, March 7th at 10:30 AM, room 12. Code A, F, 3, K, 9, Q.",
      }),
    });
    expect(await llm.phrase!(reply, context)).toBe(reply);
  });

  it('falls back to the original when the server fails', async () => {
    const { llm, reports } = assist({ phrase: true });
    fake.reply = () => serverError({ 'x-should-retry': 'false' });
    expect(await llm.phrase!(reply, context)).toBe(reply);
    expect(reports).toEqual([
      {
        error_type: 'llm_http_error',
        message: 'phrase: the LLM server answered HTTP 500; kept the template',
      },
    ]);
    expect(fake.attempts).toHaveLength(1);
  });

  it('missingFacts compares times, spelled codes, phone numbers and other numbers', () => {
    expect(missingFacts('At noon on March 6th.', 'At 12 PM on March 6th.')).toEqual([]);
    expect(missingFacts('At 2:15 PM.', 'At 2:15 p.m.')).toEqual([]);
    expect(missingFacts('At 2:15 PM.', 'At 2:50 PM.')).toEqual(['2:15pm']);
    expect(missingFacts('We will call 5 5 5, 1 2 3, 4 5 6 7.', 'We will call (555) 123-4567.')).toEqual([]);
    expect(missingFacts('We will call 5 5 5, 1 2 3, 4 5 6 7.', 'We will call you back.')).toEqual([
      '5551234567',
    ]);
    expect(missingFacts('On March 6th.', 'On March sixth.')).toEqual(['6']);
  });
});

describe('the booking engine with the assist on the fake server', () => {
  it('takes a valid proposal the rules could not make, and refuses a date in the past with a re-prompt', async () => {
    const { llm } = assist();
    const rec = new RecordingObserver();
    const store = new FakeBookingStore();
    const engine = packageEngine(
      'appointment-booking',
      { store },
      { llm, now: () => NOW, timeZone: TZ, observer: rec, random: () => 0.5, llmTimeoutMs: 2000 },
    );
    // The fake "understands" two phrases the rules cannot.
    fake.reply = (body) => {
      const text = body.messages.at(-1)!.content;
      const offered = new Set(body.tools?.map((t) => t.function.name));
      if (text.includes('the usual one') && offered.has('set_name'))
        return { body: completion({ toolCalls: [call('set_name', 'Grace Hopper')] }) };
      if (text.includes('after my birthday') && offered.has('set_date'))
        return { body: completion({ toolCalls: [call('set_date', '2025-03-01')] }) }; // already passed
      if (text.includes('dentist is back') && offered.has('set_date'))
        return { body: completion({ toolCalls: [call('set_date', '2025-03-07')] }) };
      return { body: completion({ content: 'no idea' }) };
    };

    await engine.start();
    await engine.handleUserText("I'd like to book an appointment");
    expect(engine.state).toBe('collect_name');

    const named = await engine.handleUserText('uh, same as always, the usual one');
    expect(engine.slots.name).toBe('Grace Hopper');
    expect(named.text).toContain('Thanks, Grace Hopper.');
    expect(engine.state).toBe('collect_type');
    expect(rec.slots.at(-1)).toMatchObject({ slot_name: 'name', method: 'llm', validated: true });
    // what the engine sent for that turn
    const asked = fake.bodies.at(-1)!;
    expect(asked.messages.at(-1)).toEqual({ role: 'user', content: 'uh, same as always, the usual one' });
    expect(asked.tools!.map((t) => t.function.name)).toContain('set_name');
    expect(asked.messages[0]!.content).toContain('May I have your full name, please?');

    const before = fake.attempts.length;
    await engine.handleUserText('a cleaning please'); // rules suffice: no LLM call
    expect(fake.attempts.length).toBe(before);
    expect(engine.state).toBe('collect_date');

    const refused = await engine.handleUserText('the day after my birthday');
    expect(engine.state).toBe('collect_date');
    expect(engine.slots.date).toBeUndefined();
    expect(refused.text).toBe('That date has already passed. What day would you like to come in?');
    expect(rec.slots.at(-1)).toMatchObject({ slot_name: 'date', method: 'llm', validated: false });

    const dated = await engine.handleUserText('whenever the dentist is back');
    expect(engine.slots.date).toBe('2025-03-07');
    expect(engine.state).toBe('collect_time');
    expect(dated.text).toMatch(/time/i);
    expect(rec.errors).toEqual([]);
  });

  it('carries on with its rules when the server hangs', async () => {
    const { llm } = assist();
    const engine = packageEngine(
      'appointment-booking',
      { store: new FakeBookingStore() },
      { llm, now: () => NOW, timeZone: TZ, random: () => 0.5, llmTimeoutMs: 200 },
    );
    await engine.start();
    await engine.handleUserText("I'd like to book an appointment");
    fake.reply = () => ({ hang: true });
    const t0 = performance.now();
    const r = await engine.handleUserText('uh, same as always, the usual one');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(engine.state).toBe('collect_name');
    expect(r.text).toMatch(/name/i);
  });
});
