import { EventEmitter } from 'node:events';
import { llm, voice } from '@livekit/agents';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConversationController,
  DEFAULT_APOLOGY,
  lastUserMessage,
} from '../../../src/pipeline/conversation-adapter.js';
import type { Action, ConversationPort, Reply } from '../../../src/pipeline/engine-port.js';
import type { PipelineErrorRecord } from '../../../src/pipeline/errors.js';
import { FakeConversation } from '../../../src/pipeline/fake-conversation.js';
import { ensureAgentsLogger } from '../../../src/pipeline/logging.js';

beforeAll(() => ensureAgentsLogger('silent'));

/** The slice of AgentSession the controller touches. */
class FakeSession extends EventEmitter {
  agentState: voice.AgentState = 'listening';
  userState: voice.UserState = 'listening';
  said: string[] = [];
  interrupts = 0;
  handles: FakeHandle[] = [];
  say(text: string) {
    this.said.push(text);
    const h = new FakeHandle();
    this.handles.push(h);
    return h;
  }
  interrupt() {
    this.interrupts++;
  }
  setAgent(state: voice.AgentState) {
    const old = this.agentState;
    this.agentState = state;
    this.emit(voice.AgentSessionEventTypes.AgentStateChanged, {
      type: 'agent_state_changed',
      oldState: old,
      newState: state,
      createdAt: Date.now(),
    });
  }
  setUser(state: voice.UserState) {
    const old = this.userState;
    this.userState = state;
    this.emit(voice.AgentSessionEventTypes.UserStateChanged, {
      type: 'user_state_changed',
      oldState: old,
      newState: state,
      createdAt: Date.now(),
    });
  }
  createSpeech() {
    const h = new FakeHandle();
    this.emit(voice.AgentSessionEventTypes.SpeechCreated, {
      type: 'speech_created',
      source: 'generate_reply',
      userInitiated: true,
      speechHandle: h,
      createdAt: Date.now(),
    });
    return h;
  }
}

class FakeHandle {
  private cbs: (() => void)[] = [];
  private isDone = false;
  done() {
    return this.isDone;
  }
  addDoneCallback(cb: () => void) {
    this.cbs.push(cb);
  }
  finish() {
    this.isDone = true;
    for (const cb of this.cbs) cb();
  }
}

const asSession = (s: FakeSession) => s as unknown as voice.AgentSession;
const userMsg = (text: string) => llm.ChatMessage.create({ role: 'user', content: text });
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

function setup(
  port: ConversationPort,
  extra: Partial<ConstructorParameters<typeof ConversationController>[0]> = {},
) {
  const actions: Action[][] = [];
  const errors: PipelineErrorRecord[] = [];
  const session = new FakeSession();
  const controller = new ConversationController({
    port,
    noInputTimeoutMs: null,
    onActions: (a) => {
      actions.push(a);
    },
    onError: (e) => errors.push(e),
    ...extra,
  });
  controller.bind(asSession(session));
  return { controller, session, actions, errors };
}

describe('ConversationController', () => {
  it("hands the port's expectation to the session STT after every reply", async () => {
    const port = new FakeConversation({ slots: ['name'] });
    const expected = { kind: 'name', state: 'ask_name', slots: ['name'], intentPhrases: [] } as const;
    const withExpectation = Object.assign(Object.create(port) as ConversationPort, {
      expectation: () => expected,
    });
    const { controller, session } = setup(withExpectation);
    const got: unknown[] = [];
    // FAKE STT: records what the controller tells it
    (session as unknown as { stt: unknown }).stt = { expect: (e: unknown) => got.push(e) };
    await controller.greet();
    expect(got).toEqual([expected]);
  });

  it('greets with the engine start reply', async () => {
    const port = new FakeConversation({ slots: ['name'] });
    const { controller, session } = setup(port);
    await controller.greet();
    expect(session.said).toEqual(['Hello! What is your name?']);
    expect(port.state).toBe('ask_name');
  });

  it('streams the engine reply as the LLM completion, with engine metrics', async () => {
    const port = new FakeConversation({ slots: ['name', 'date'] });
    const { controller } = setup(port);
    await controller.greet();
    const metrics: unknown[] = [];
    controller.llm.on('metrics_collected', (m) => metrics.push(m));
    const chatCtx = llm.ChatContext.empty();
    chatCtx.addMessage({ role: 'assistant', content: 'Hello! What is your name?' });
    const msg = chatCtx.addMessage({ role: 'user', content: 'John' });
    const res = await controller.llm.chat({ chatCtx }).collect();
    expect(res.text).toBe('Got it, John. What is your date?');
    expect(port.received[0]).toMatchObject({
      kind: 'text',
      value: 'John',
      meta: { source: 'speech', turnIndex: 0, messageId: msg.id },
    });
    expect(controller.stateAtUserTurn(msg.id)).toBe('ask_name');
    await tick(5);
    expect(metrics).toHaveLength(1);
    expect(metrics[0]).toMatchObject({ type: 'llm_metrics', label: 'conversation-engine' });
  });

  it('hands each user message to the engine once', async () => {
    const port = new FakeConversation({ slots: ['a', 'b', 'c'] });
    const { controller } = setup(port);
    await controller.greet();
    const chatCtx = llm.ChatContext.empty();
    chatCtx.addMessage({ role: 'user', content: 'one' });
    expect((await controller.llm.chat({ chatCtx }).collect()).text).toContain('one');
    // a second generation over the same history (e.g. generateReply() without input)
    expect((await controller.llm.chat({ chatCtx }).collect()).text).toBe('');
    // history ending with the agent: nothing to answer
    chatCtx.addMessage({ role: 'assistant', content: 'ok' });
    expect(lastUserMessage(chatCtx)).toBeUndefined();
    expect((await controller.llm.chat({ chatCtx }).collect()).text).toBe('');
    expect(port.received).toHaveLength(1);
  });

  it('queues engine calls: never two at once, in arrival order', async () => {
    let active = 0;
    let maxActive = 0;
    const order: string[] = [];
    const port: ConversationPort = {
      state: 's',
      isTerminal: false,
      start: () => ({ text: '', actions: [] }),
      onUserText: async (text) => {
        active++;
        maxActive = Math.max(maxActive, active);
        await tick(text === 'slow' ? 30 : 1);
        order.push(text);
        active--;
        return { text: `re ${text}`, actions: [] };
      },
      onDtmf: async (d) => {
        active++;
        maxActive = Math.max(maxActive, active);
        order.push(`dtmf ${d}`);
        active--;
        return { text: `key ${d}`, actions: [] };
      },
      onTimeout: () => ({ text: '', actions: [] }),
    };
    const { controller, session } = setup(port);
    const a = controller.replyToUserMessage(userMsg('slow'));
    const b = controller.handleDtmf('7');
    const c = controller.replyToUserMessage(userMsg('fast'));
    const replies = await Promise.all([a, b, c]);
    expect(maxActive).toBe(1);
    expect(order).toEqual(['slow', 'dtmf 7', 'fast']);
    expect((replies[0] as Reply).text).toBe('re slow');
    expect(session.said).toEqual(['key 7']);
    expect(session.interrupts).toBe(1); // DTMF cuts the agent off
  });

  it('answers with an apology when the engine throws or is too slow', async () => {
    const port = new FakeConversation({ slots: ['a', 'b'], failOnTurn: 0 });
    const { controller, errors } = setup(port, { engineTimeoutMs: 50 });
    expect((await controller.replyToUserMessage(userMsg('x'))).text).toBe(DEFAULT_APOLOGY);
    expect(errors[0]).toMatchObject({ error_type: 'engine_error', severity: 'high', recoverable: true });

    const stuck: ConversationPort = {
      ...port,
      state: 'stuck',
      isTerminal: false,
      start: port.start.bind(port),
      onDtmf: port.onDtmf.bind(port),
      onTimeout: port.onTimeout.bind(port),
      onUserText: () => new Promise<Reply>(() => {}),
    };
    const slow = setup(stuck, { engineTimeoutMs: 30, apology: 'Sorry!' });
    const started = Date.now();
    expect((await slow.controller.replyToUserMessage(userMsg('y'))).text).toBe('Sorry!');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(slow.errors[0]).toMatchObject({ error_type: 'engine_timeout' });
    expect(slow.controller.exchanges[0]).toMatchObject({
      source: 'user_text',
      failed: true,
      stateBefore: 'stuck',
    });
  });

  it('runs actions after the reply speech has played, adding a hangup in a terminal state', async () => {
    const port = new FakeConversation({ slots: ['name'] });
    const { controller, session, actions } = setup(port);
    await controller.greet();
    const speech = session.createSpeech(); // what the framework does before calling the LLM
    const r = await controller.replyToUserMessage(userMsg('Ann'));
    expect(r.actions).toEqual([{ type: 'hangup', reason: 'completed' }]);
    await tick();
    expect(actions).toHaveLength(0); // still speaking
    speech.finish();
    await tick();
    expect(actions).toEqual([[{ type: 'hangup', reason: 'completed' }]]);

    // terminal without an explicit hangup: the controller adds one
    const terminal: ConversationPort = {
      state: 'end',
      isTerminal: true,
      start: () => ({ text: 'Bye.', actions: [] }),
      onUserText: () => ({ text: '', actions: [] }),
      onDtmf: () => ({ text: '', actions: [] }),
      onTimeout: () => ({ text: '', actions: [] }),
    };
    const t = setup(terminal);
    await t.controller.greet();
    t.session.handles[0]!.finish();
    await tick();
    expect(t.actions).toEqual([[{ type: 'hangup', reason: 'terminal_state' }]]);
  });

  it('asks the engine for a reprompt after the no-input timeout, and not while someone speaks', async () => {
    const port = new FakeConversation({ slots: ['name'] });
    const { session, actions } = setup(port, { noInputTimeoutMs: 40 });
    session.setAgent('speaking');
    await tick(60);
    expect(port.received).toHaveLength(0);
    session.setAgent('listening');
    session.setUser('speaking');
    await tick(60);
    expect(port.received).toHaveLength(0);
    session.setUser('listening');
    await tick(60);
    expect(port.received.map((r) => r.kind)).toEqual(['timeout']);
    expect(session.said).toEqual(['Are you still there?']);
    // the reprompt plays, then silence again: second timeout ends the call
    session.setAgent('speaking');
    session.setAgent('listening');
    session.handles[0]!.finish();
    await tick(60);
    expect(session.said[1]).toBe('I did not hear anything. Goodbye.');
    session.handles[1]!.finish();
    await tick();
    expect(actions).toEqual([[{ type: 'hangup', reason: 'no_input' }]]);
  });
});

describe('ConversationAgent in a real AgentSession (text only)', () => {
  it('replies to user input through the framework pipeline', async () => {
    const port = new FakeConversation({ slots: ['name', 'date'] });
    const controller = new ConversationController({ port, noInputTimeoutMs: null });
    const session = new voice.AgentSession({
      vad: null,
      turnHandling: { turnDetection: null, preemptiveGeneration: { enabled: false } },
    });
    const items: string[] = [];
    session.on(voice.AgentSessionEventTypes.ConversationItemAdded, (ev) => {
      if (ev.item.type === 'message') items.push(`${ev.item.role}: ${ev.item.textContent}`);
    });
    await session.start({ agent: controller.createAgent() });
    for (let i = 0; i < 100 && items.length === 0; i++) await tick(10); // the greeting
    const handle = session.generateReply({ userInput: 'Maria' });
    await handle.waitForPlayout();
    await session.close();
    expect(items).toEqual([
      'assistant: Hello! What is your name?',
      'user: Maria',
      'assistant: Got it, Maria. What is your date?',
    ]);
    expect(port.slots).toEqual({ name: 'Maria' });
  });
});
