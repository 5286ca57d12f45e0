import { type llm, voice } from '@livekit/agents';
import { alternativesFor, applyExpectation } from '../providers/expectation-sink.js';
import { ConversationAgent, ConversationLLM } from './conversation-llm.js';
import type { Action, ConversationPort, Reply } from './engine-port.js';
import { type ErrorReporter, errorMessage } from './errors.js';

/**
 * Makes the conversation engine the "LLM" of an AgentSession.
 *
 * The framework already does everything around a reply: it waits for the end of the user's
 * turn, creates a speech, calls the LLM, pipes its text to TTS, plays it, handles barge-in and
 * adds both messages to the chat history. {@link ConversationLLM} is an `llm.LLM` whose
 * "completion" is the engine's reply to the last user message, so all of that keeps working
 * unchanged and the framework's own LLM metrics (time to first token) measure the engine.
 * Greeting, DTMF and no-input timeouts do not go through the LLM: the controller speaks
 * those replies with `session.say()`.
 *
 * Guarantees:
 * - the port is called one event at a time (calls are queued);
 * - each user message is given to the engine exactly once (the framework's LLM retry is off
 *   and a re-run over the same history yields nothing);
 * - an engine call that throws or exceeds `engineTimeoutMs` yields a spoken apology and an
 *   error record instead of silence;
 * - actions run after the speech that carries the reply has finished (or been interrupted);
 *   reaching a terminal state without an explicit hangup/transfer adds a hangup.
 */

export type ReplySource = 'start' | 'user_text' | 'dtmf' | 'timeout';

/** One engine call, for the simulator result and debugging. */
export interface Exchange {
  source: ReplySource;
  input?: string;
  reply: Reply;
  stateBefore: string;
  stateAfter: string;
  /** Engine time in ms. */
  ms: number;
  failed: boolean;
  at: number;
}

export interface ConversationControllerOptions {
  port: ConversationPort;
  /** An engine call slower than this is abandoned and answered with the apology. Default 8000. */
  engineTimeoutMs?: number;
  /** Spoken when the engine fails. */
  apology?: string;
  /** Spoken when the STT provider fails over (the caller's last words were lost). */
  sttApology?: string;
  /** Silence (agent and caller both quiet) before port.onTimeout(); null disables. Default 10000. */
  noInputTimeoutMs?: number | null;
  /** Add a hangup when the flow reaches a terminal state without hangup/transfer. Default true. */
  hangupOnTerminal?: boolean;
  /** Called with the actions of a reply once its speech has played out. */
  onActions?: (actions: Action[], context: { reply: Reply; source: ReplySource }) => void | Promise<void>;
  onError?: ErrorReporter;
  onExchange?: (exchange: Exchange) => void;
}

export const DEFAULT_APOLOGY = "I'm sorry, I'm having trouble right now. Could you say that again?";
export const DEFAULT_STT_APOLOGY = "Sorry, I didn't catch that. Could you say it again?";

class EngineTimeoutError extends Error {
  constructor(ms: number) {
    super(`conversation engine did not answer within ${ms} ms`);
    this.name = 'EngineTimeoutError';
  }
}

export class ConversationController {
  readonly port: ConversationPort;
  readonly llm: ConversationLLM;
  readonly exchanges: Exchange[] = [];
  private readonly opts: ConversationControllerOptions;
  private readonly engineTimeoutMs: number;
  private chain: Promise<unknown> = Promise.resolve();
  private session?: voice.AgentSession;
  private unbind?: () => void;
  private lastGenerateHandle?: voice.SpeechHandle;
  private readonly processed = new Set<string>();
  private readonly userTurnStates = new Map<string, string>();
  private userTurns = 0;
  private agentState: voice.AgentState = 'initializing';
  private userState: voice.UserState = 'listening';
  private noInputTimer?: NodeJS.Timeout;
  private closed = false;
  private lastApologyAt = 0;

  constructor(options: ConversationControllerOptions) {
    this.opts = options;
    this.port = options.port;
    this.engineTimeoutMs = options.engineTimeoutMs ?? 8000;
    this.llm = new ConversationLLM(this);
  }

  /**
   * An Agent whose LLM is the engine and whose entry speaks the greeting; `trimTtsSilence`
   * drops the TTS's leading silence of every reply (src/pipeline/leading-silence.ts).
   */
  createAgent(options: { instructions?: string; trimTtsSilence?: boolean } = {}): ConversationAgent {
    return new ConversationAgent(this, options.instructions ?? '', options.trimTtsSilence ?? false);
  }

  /** Listens to the session (speech handles, no-input timer). Idempotent; done by the agent's onEnter. */
  bind(session: voice.AgentSession): void {
    if (this.session === session) return;
    this.unbind?.();
    this.session = session;
    const onSpeech = (ev: voice.SpeechCreatedEvent) => {
      if (ev.source === 'generate_reply') this.lastGenerateHandle = ev.speechHandle;
    };
    const onAgentState = (ev: voice.AgentStateChangedEvent) => {
      this.agentState = ev.newState;
      this.updateNoInputTimer();
    };
    const onUserState = (ev: voice.UserStateChangedEvent) => {
      this.userState = ev.newState;
      this.updateNoInputTimer();
    };
    const onClose = () => this.close();
    // stt.FallbackAdapter switching provider: the utterance in flight is lost, say so.
    const onSttAvailability = (ev: { available?: boolean }) => {
      if (ev.available === false) this.apologize(this.opts.sttApology ?? DEFAULT_STT_APOLOGY);
    };
    const sttEvents = session.stt as unknown as Partial<NodeJS.EventEmitter> | undefined;
    sttEvents?.on?.('stt_availability_changed', onSttAvailability);
    session.on(voice.AgentSessionEventTypes.SpeechCreated, onSpeech);
    session.on(voice.AgentSessionEventTypes.AgentStateChanged, onAgentState);
    session.on(voice.AgentSessionEventTypes.UserStateChanged, onUserState);
    session.on(voice.AgentSessionEventTypes.Close, onClose);
    this.agentState = session.agentState;
    this.userState = session.userState;
    this.unbind = () => {
      sttEvents?.off?.('stt_availability_changed', onSttAvailability);
      session.off(voice.AgentSessionEventTypes.SpeechCreated, onSpeech);
      session.off(voice.AgentSessionEventTypes.AgentStateChanged, onAgentState);
      session.off(voice.AgentSessionEventTypes.UserStateChanged, onUserState);
      session.off(voice.AgentSessionEventTypes.Close, onClose);
    };
  }

  /** Stops timers and listeners (the session closing does this too). */
  close(): void {
    this.closed = true;
    this.clearNoInputTimer();
    this.unbind?.();
    this.unbind = undefined;
  }

  /** State the engine was in when it received the user message with this chat-message id. */
  stateAtUserTurn(messageId: string): string | undefined {
    return this.userTurnStates.get(messageId);
  }

  /** Speaks the engine's greeting. Called by the agent's onEnter. */
  async greet(): Promise<void> {
    const reply = await this.call('start', undefined, () => this.port.start());
    this.speak(reply, 'start', false);
  }

  /** The caller pressed key(s): interrupts the agent and speaks the engine's answer. */
  async handleDtmf(digits: string): Promise<void> {
    const reply = await this.call('dtmf', digits, () => this.port.onDtmf(digits));
    this.speak(reply, 'dtmf', true);
  }

  /** No input for the timeout: speaks the engine's reprompt (or goodbye). */
  async handleTimeout(): Promise<void> {
    const reply = await this.call('timeout', undefined, () => this.port.onTimeout());
    this.speak(reply, 'timeout', false);
  }

  /** Speaks an apology outside the engine (at most one every 3 s). */
  apologize(text: string = this.opts.apology ?? DEFAULT_APOLOGY): void {
    const now = Date.now();
    if (!this.session || this.closed || now - this.lastApologyAt < 3000) return;
    this.lastApologyAt = now;
    try {
      this.session.say(text);
    } catch {
      // session closing
    }
  }

  /** @internal ConversationLLM: the engine's reply to one user chat message. */
  async replyToUserMessage(message: llm.ChatMessage): Promise<Reply> {
    if (this.processed.has(message.id)) {
      // A second generation over the same history (e.g. generateReply() without input).
      return { text: '', actions: [] };
    }
    this.processed.add(message.id);
    const text = message.textContent ?? '';
    const turnIndex = this.userTurns++;
    const reply = await this.call('user_text', text, () => {
      this.userTurnStates.set(message.id, this.port.state);
      const alternatives = this.session ? alternativesFor(this.session.stt, text) : undefined;
      return this.port.onUserText(text, {
        source: 'speech',
        messageId: message.id,
        turnIndex,
        ...(alternatives ? { alternatives } : {}),
        ...(message.transcriptConfidence !== undefined ? { confidence: message.transcriptConfidence } : {}),
      });
    });
    // The framework created the speech for this reply just before calling the LLM.
    this.afterSpeech(this.lastGenerateHandle, reply, 'user_text');
    return reply;
  }

  private speak(reply: Reply, source: ReplySource, interrupt: boolean): void {
    const session = this.session;
    let handle: voice.SpeechHandle | undefined;
    if (session && !this.closed && reply.text.trim()) {
      try {
        if (interrupt) session.interrupt();
      } catch {
        // the current speech does not allow interruptions; ours queues behind it
      }
      try {
        handle = session.say(reply.text);
      } catch (err) {
        this.report('speech_error', `could not speak ${source} reply: ${errorMessage(err)}`, 'medium', false);
      }
    }
    this.afterSpeech(handle, reply, source);
  }

  private afterSpeech(handle: voice.SpeechHandle | undefined, reply: Reply, source: ReplySource): void {
    const actions = [...reply.actions];
    const ends = actions.some((a) => a.type === 'hangup' || a.type === 'transfer');
    if (!ends && this.port.isTerminal && (this.opts.hangupOnTerminal ?? true)) {
      actions.push({ type: 'hangup', reason: 'terminal_state' });
    }
    if (actions.length === 0 || !this.opts.onActions) return;
    const deliver = () => {
      Promise.resolve()
        .then(() => this.opts.onActions?.(actions, { reply, source }))
        .catch((err) => this.report('action_error', errorMessage(err), 'high', false));
    };
    // NB: a SpeechHandle is a thenable (awaiting it waits for playout); use the callback API.
    if (!handle || handle.done()) deliver();
    else handle.addDoneCallback(() => deliver());
  }

  /** Runs one engine call: queued behind the previous one, with timeout and apology. */
  private call(
    source: ReplySource,
    input: string | undefined,
    fn: () => Reply | Promise<Reply>,
  ): Promise<Reply> {
    const run = async (): Promise<Reply> => {
      const stateBefore = this.port.state;
      const started = performance.now();
      let reply: Reply;
      let failed = false;
      let timer: NodeJS.Timeout | undefined;
      try {
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new EngineTimeoutError(this.engineTimeoutMs)),
            this.engineTimeoutMs,
          );
        });
        reply = normalizeReply(await Promise.race([Promise.resolve().then(fn), timeout]));
      } catch (err) {
        failed = true;
        const timedOut = err instanceof EngineTimeoutError;
        this.report(timedOut ? 'engine_timeout' : 'engine_error', errorMessage(err), 'high', true, {
          source,
          state: stateBefore,
          ...(err instanceof Error && err.stack ? { stack: err.stack } : {}),
        });
        reply = { text: this.opts.apology ?? DEFAULT_APOLOGY, actions: [] };
      } finally {
        clearTimeout(timer);
      }
      const exchange: Exchange = {
        source,
        ...(input !== undefined ? { input } : {}),
        reply,
        stateBefore,
        stateAfter: this.port.state,
        ms: performance.now() - started,
        failed,
        at: Date.now(),
      };
      this.exchanges.push(exchange);
      this.opts.onExchange?.(exchange);
      if (this.port.expectation && this.session) applyExpectation(this.session.stt, this.port.expectation());
      return reply;
    };
    const result = this.chain.then(run, run);
    this.chain = result.catch(() => undefined);
    return result;
  }

  private report(
    type: string,
    message: string,
    severity: 'low' | 'medium' | 'high' | 'critical',
    recoverable: boolean,
    context?: Record<string, unknown>,
  ): void {
    this.opts.onError?.({
      error_type: type,
      message,
      severity,
      recoverable,
      ...(context ? { context } : {}),
      at: Date.now(),
    });
  }

  private updateNoInputTimer(): void {
    const timeoutMs = this.opts.noInputTimeoutMs === undefined ? 10_000 : this.opts.noInputTimeoutMs;
    const idle = this.agentState === 'listening' && this.userState !== 'speaking';
    if (!idle || timeoutMs === null || this.closed || this.port.isTerminal) {
      this.clearNoInputTimer();
      return;
    }
    if (this.noInputTimer) return;
    this.noInputTimer = setTimeout(() => {
      this.noInputTimer = undefined;
      if (this.closed) return;
      void this.handleTimeout();
    }, timeoutMs);
    this.noInputTimer.unref?.();
  }

  private clearNoInputTimer(): void {
    if (this.noInputTimer) clearTimeout(this.noInputTimer);
    this.noInputTimer = undefined;
  }
}

function normalizeReply(value: Reply | undefined | null): Reply {
  if (!value || typeof value.text !== 'string') {
    throw new Error('conversation engine returned no reply');
  }
  return { text: value.text, actions: Array.isArray(value.actions) ? value.actions : [] };
}

export { ConversationAgent, ConversationLLM, lastUserMessage } from './conversation-llm.js';
