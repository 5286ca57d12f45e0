import { type APIConnectOptions, llm, shortuuid } from '@livekit/agents';
import { sleep } from '../../util/async.js';

/**
 * FAKE LLM for tests and benchmarks: answers instantly (one chunk, zero latency unless
 * `delayMs` is set) with `respond(lastUserText)` — by default `"You said: <text>."`. It is the
 * "bare AgentSession" baseline of the pipeline benchmark and a stand-in for the LLM the
 * conversation engine may be given.
 */
export interface FakeLLMOptions {
  respond?: (userText: string) => string;
  /** Artificial time to first token. Default 0. */
  delayMs?: number;
}

export class FakeLLM extends llm.LLM {
  readonly respond: (userText: string) => string;
  readonly delayMs: number;
  /** Every user text it was asked about, in order. */
  readonly requests: string[] = [];

  constructor(options: FakeLLMOptions = {}) {
    super();
    this.respond = options.respond ?? ((text) => `You said: ${text}.`);
    this.delayMs = options.delayMs ?? 0;
  }

  label(): string {
    return 'fake.LLM';
  }

  override get model(): string {
    return 'fake';
  }

  override get provider(): string {
    return 'fake';
  }

  chat({
    chatCtx,
    toolCtx,
    connOptions,
  }: {
    chatCtx: llm.ChatContext;
    toolCtx?: llm.ToolContextLike;
    connOptions?: APIConnectOptions;
  }): llm.LLMStream {
    return new FakeLLMStream(this, { chatCtx, toolCtx, connOptions: connOptions ?? DEFAULT_CONN });
  }
}

const DEFAULT_CONN: APIConnectOptions = { maxRetry: 0, retryIntervalMs: 0, timeoutMs: 10_000 };

/** Text of the last user message of a chat context, if the context ends with one. */
export function lastUserText(chatCtx: llm.ChatContext): string | undefined {
  for (let i = chatCtx.items.length - 1; i >= 0; i--) {
    const item = chatCtx.items[i]!;
    if (item.type !== 'message') continue;
    if (item.role === 'user') return item.textContent ?? '';
    if (item.role === 'assistant') return undefined;
  }
  return undefined;
}

class FakeLLMStream extends llm.LLMStream {
  readonly #fake: FakeLLM;

  constructor(
    fake: FakeLLM,
    params: { chatCtx: llm.ChatContext; toolCtx?: llm.ToolContextLike; connOptions: APIConnectOptions },
  ) {
    super(fake, params);
    this.#fake = fake;
  }

  protected async run(): Promise<void> {
    const text = lastUserText(this.chatCtx) ?? '';
    this.#fake.requests.push(text);
    if (this.#fake.delayMs > 0) await sleep(this.#fake.delayMs);
    this.queue.put({
      id: shortuuid('fake_llm_'),
      delta: { role: 'assistant', content: this.#fake.respond(text) },
    });
  }
}
