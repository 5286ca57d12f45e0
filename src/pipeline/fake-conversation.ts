import type { Expectation } from '../contracts/expectation.js';
import type {
  Action,
  ConversationPort,
  ConversationSnapshot,
  Reply,
  TransitionRecord,
  UserTextMeta,
} from './engine-port.js';

/**
 * FAKE conversation engine implementing the ConversationPort, for tests, the benchmark and
 * trying the simulator before the real engine (src/conversation) is wired in. It asks for `slots` in order, stores
 * each user text as the next slot value, confirms, and hangs up after the last one:
 *
 *   greeting → ask_<slot 1> → … → ask_<slot n> → done (terminal, hangup)
 *
 * DTMF '0' transfers; any other digit is echoed. A no-input timeout reprompts, the second
 * one in a row says goodbye and hangs up. `delayMs` makes every call asynchronous.
 */
export interface FakeConversationOptions {
  slots?: string[];
  delayMs?: number;
  /** Throw on the n-th (0-based) user text, to exercise the apology path. */
  failOnTurn?: number;
  /**
   * Makes the fake publish an expectation: every state expects `kind`, and a partial
   * transcript completes the turn when this returns true (flow-aware end of turn).
   */
  completesTurn?: (partialTranscript: string, state: string) => boolean;
  expectationKind?: Expectation['kind'];
}

export class FakeConversation implements ConversationPort {
  state = 'greeting';
  readonly slots: Record<string, string> = {};
  readonly transitions: TransitionRecord[] = [];
  readonly received: { kind: 'text' | 'dtmf' | 'timeout'; value?: string; meta?: UserTextMeta }[] = [];
  private readonly slotNames: string[];
  private readonly delayMs: number;
  private readonly failOnTurn?: number;
  private readonly completes?: (partialTranscript: string, state: string) => boolean;
  private readonly expectationKind: Expectation['kind'];
  /** Partial transcripts the pipeline asked about, in order. */
  readonly completionChecks: string[] = [];
  private timeouts = 0;
  private userTurns = 0;

  constructor(options: FakeConversationOptions = {}) {
    this.slotNames = options.slots ?? ['name', 'date'];
    this.delayMs = options.delayMs ?? 0;
    this.failOnTurn = options.failOnTurn;
    this.completes = options.completesTurn;
    this.expectationKind = options.expectationKind ?? 'open';
    // Only a fake given a check offers the optional port methods, like an engine without them.
    if (!this.completes) {
      this.completesTurn = undefined;
      this.expectation = undefined;
    }
  }

  expectation?: () => Expectation = () => ({
    kind: this.expectationKind,
    state: this.state,
    slots: this.state.startsWith('ask_') ? [this.state.slice(4)] : [],
    intentPhrases: [],
  });

  completesTurn?: (partialTranscript: string) => boolean = (partialTranscript) => {
    this.completionChecks.push(partialTranscript);
    return this.completes?.(partialTranscript, this.state) ?? false;
  };

  get isTerminal(): boolean {
    return this.state === 'done' || this.state === 'transferred';
  }

  start(): Reply | Promise<Reply> {
    return this.answer(() => {
      this.go(`ask_${this.slotNames[0]}`, 'start');
      return { text: `Hello! What is your ${this.slotNames[0]}?`, actions: [] };
    });
  }

  onUserText(text: string, meta: UserTextMeta): Reply | Promise<Reply> {
    this.received.push({ kind: 'text', value: text, meta });
    const turn = this.userTurns++;
    return this.answer(() => {
      if (turn === this.failOnTurn) throw new Error(`fake engine failure on turn ${turn}`);
      this.timeouts = 0;
      const current = this.state.startsWith('ask_') ? this.state.slice(4) : undefined;
      if (!current) return { text: 'We are done, goodbye.', actions: [{ type: 'hangup' }] };
      this.slots[current] = text;
      const next = this.slotNames[this.slotNames.indexOf(current) + 1];
      if (next) {
        this.go(`ask_${next}`, 'user_text', { [current]: text });
        return { text: `Got it, ${text}. What is your ${next}?`, actions: [] };
      }
      this.go('done', 'user_text', { [current]: text });
      return {
        text: 'Thank you, you are all set. Goodbye!',
        actions: [{ type: 'hangup', reason: 'completed' }],
      };
    });
  }

  onDtmf(digits: string): Reply | Promise<Reply> {
    this.received.push({ kind: 'dtmf', value: digits });
    return this.answer(() => {
      if (digits === '0') {
        this.go('transferred', 'dtmf', { digits });
        const actions: Action[] = [{ type: 'transfer', reason: 'caller asked for an operator' }];
        return { text: 'Transferring you to an operator.', actions };
      }
      return { text: `You pressed ${digits.split('').join(' ')}.`, actions: [] };
    });
  }

  onTimeout(): Reply | Promise<Reply> {
    this.received.push({ kind: 'timeout' });
    return this.answer(() => {
      this.timeouts++;
      if (this.timeouts >= 2) {
        this.go('done', 'timeout');
        return {
          text: 'I did not hear anything. Goodbye.',
          actions: [{ type: 'hangup', reason: 'no_input' }],
        };
      }
      return { text: 'Are you still there?', actions: [] };
    });
  }

  snapshot(): ConversationSnapshot {
    return { flow: 'fake', slots: { ...this.slots }, records: [], transitions: [...this.transitions] };
  }

  private go(to: string, trigger: string, data?: Record<string, unknown>): void {
    this.transitions.push({ from: this.state, to, trigger, ...(data ? { data } : {}) });
    this.state = to;
  }

  private answer(fn: () => Reply): Reply | Promise<Reply> {
    if (this.delayMs <= 0) return fn();
    return new Promise((resolve, reject) => {
      setTimeout(() => {
        try {
          resolve(fn());
        } catch (err) {
          reject(err);
        }
      }, this.delayMs);
    });
  }
}
