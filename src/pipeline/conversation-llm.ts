import type { ReadableStream } from 'node:stream/web';
import { type APIConnectOptions, llm, shortuuid, voice } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import type { ConversationController } from './conversation-adapter.js';
import { trimLeadingSilence } from './leading-silence.js';

/** The framework side of the engine adapter: the Agent and the `llm.LLM` it speaks through. */

/** The agent that runs a call through a {@link ConversationController}. */
export class ConversationAgent extends voice.Agent {
  readonly controller: ConversationController;
  private readonly trimTtsSilence: boolean;

  constructor(controller: ConversationController, instructions: string, trimTtsSilence = false) {
    super({ instructions, llm: controller.llm });
    this.controller = controller;
    this.trimTtsSilence = trimTtsSilence;
  }

  override async onEnter(): Promise<void> {
    this.controller.bind(this.session);
    await this.controller.greet();
  }

  override async ttsNode(
    text: ReadableStream<string> | AsyncIterable<string>,
    modelSettings: voice.ModelSettings,
  ): Promise<ReadableStream<AudioFrame> | null> {
    const audio = await voice.Agent.default.ttsNode(this, text, modelSettings);
    return audio && this.trimTtsSilence ? trimLeadingSilence(audio) : audio;
  }
}

/** The engine presented as an `llm.LLM` (see the module comment). */
export class ConversationLLM extends llm.LLM {
  readonly controller: ConversationController;

  constructor(controller: ConversationController) {
    super();
    this.controller = controller;
  }

  label(): string {
    return 'conversation-engine';
  }

  override get model(): string {
    return 'conversation-engine';
  }

  override get provider(): string {
    return 'local';
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
    // Never retry: a retry would hand the same user turn to the engine twice.
    const conn: APIConnectOptions = { timeoutMs: 10_000, retryIntervalMs: 0, ...connOptions, maxRetry: 0 };
    return new ConversationLLMStream(this, { chatCtx, toolCtx, connOptions: conn });
  }
}

class ConversationLLMStream extends llm.LLMStream {
  readonly #llm: ConversationLLM;

  constructor(
    engine: ConversationLLM,
    params: { chatCtx: llm.ChatContext; toolCtx?: llm.ToolContextLike; connOptions: APIConnectOptions },
  ) {
    super(engine, params);
    this.#llm = engine;
  }

  protected async run(): Promise<void> {
    const message = lastUserMessage(this.chatCtx);
    if (!message) return;
    const reply = await this.#llm.controller.replyToUserMessage(message);
    if (reply.text && !this.abortController.signal.aborted) {
      this.queue.put({ id: shortuuid('engine_'), delta: { role: 'assistant', content: reply.text } });
    }
  }
}

/** The last user message of a chat context, unless the agent has spoken after it. */
export function lastUserMessage(chatCtx: llm.ChatContext): llm.ChatMessage | undefined {
  for (let i = chatCtx.items.length - 1; i >= 0; i--) {
    const item = chatCtx.items[i]!;
    if (item.type !== 'message') continue;
    if (item.role === 'user') return item;
    if (item.role === 'assistant') return undefined;
  }
  return undefined;
}
