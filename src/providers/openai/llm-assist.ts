import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  type OpenAI,
} from 'openai';
import type { Config } from '../../config/config.js';
import {
  type LlmAssist,
  type PhraseContext,
  type ProposeRequest,
  type SlotProposal,
  slotOfTool,
} from '../../conversation/llm.js';
import { createOpenAIClient, openAIOptionsFromConfig } from './index.js';

/**
 * The conversation engine's {@link LlmAssist} over any OpenAI-compatible chat-completions
 * server (OpenAI, vLLM, LocalAI, llama.cpp server, LiteLLM, Ollama…).
 *
 * proposeSlots: one `chat.completions.create` per call — a short system prompt (flow, state,
 * last prompt, current time and zone, slots so far), the caller's words as the user message and
 * the request's tools as function tools (`tool_choice: 'auto'`, parallel calls allowed). Every
 * tool call becomes a {@link SlotProposal}; the engine validates them all. A tool call whose
 * arguments are not a JSON object with a `value`, or that names a tool that was not offered, is
 * skipped and reported through `onError` — never thrown. A failed request rejects with an
 * {@link LlmAssistError} (the engine records it and carries on with its rules).
 *
 * phrase (only with `phrase: true`): one completion that rewords a templated reply. The answer
 * is used only when it keeps every fact of the original — each number, time and spelled code
 * (see {@link missingFacts}) — and adds no number of its own; otherwise, or when the request
 * fails, the original text is returned (and the reason reported through `onError`).
 *
 * Nothing here logs, and error messages never contain what the caller said, the slot values or
 * the model's arguments (they may hold names and phone numbers): only types, lengths, statuses.
 */

export interface LlmAssistErrorReport {
  error_type: string;
  message: string;
}

export interface OpenAILlmAssistOptions {
  client: OpenAI;
  model: string;
  /** Sent only when set (some models accept only their default). */
  temperature?: number;
  /** Reword replies through the model (one extra request per reply). Default false. */
  phrase?: boolean;
  onError?: (e: LlmAssistErrorReport) => void;
}

/** A failed LLM request, with a message safe to record (no prompt or caller text). */
export class LlmAssistError extends Error {
  constructor(
    readonly error_type: string,
    message: string,
  ) {
    super(message);
    this.name = 'LlmAssistError';
  }
}

export class OpenAILlmAssist implements LlmAssist {
  readonly model: string;
  /** Present only when rewording is enabled (the engine checks for it). */
  readonly phrase?: (reply: string, context: PhraseContext) => Promise<string>;
  private readonly client: OpenAI;
  private readonly temperature: number | undefined;
  private readonly onError: ((e: LlmAssistErrorReport) => void) | undefined;

  constructor(opts: OpenAILlmAssistOptions) {
    this.client = opts.client;
    this.model = opts.model;
    this.temperature = opts.temperature;
    this.onError = opts.onError;
    if (opts.phrase) this.phrase = (reply, context) => this.reword(reply, context);
  }

  async proposeSlots(request: ProposeRequest): Promise<SlotProposal[]> {
    const offered = new Set(request.tools.map((t) => t.name));
    if (offered.size === 0) return [];
    const tools = request.tools.map(
      (t): OpenAI.Chat.ChatCompletionTool => ({
        type: 'function',
        function: { name: t.name, description: t.description, parameters: t.parameters },
      }),
    );
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: 'system', content: proposePrompt(request) },
      { role: 'user', content: request.userText },
    ];
    let completion: OpenAI.Chat.ChatCompletion;
    try {
      completion = await this.client.chat.completions.create({
        model: this.model,
        messages,
        tools,
        tool_choice: 'auto',
        parallel_tool_calls: true,
        ...this.sampling(),
      });
    } catch (error) {
      const d = describeFailure(error);
      throw new LlmAssistError(d.error_type, d.message);
    }
    const proposals: SlotProposal[] = [];
    for (const call of completion.choices?.[0]?.message?.tool_calls ?? []) {
      if (call.type !== 'function') continue;
      const name = call.function.name;
      if (!offered.has(name)) {
        this.report('llm_unknown_tool', `the model called a tool that was not offered (${safeName(name)})`);
        continue;
      }
      const args = parseArguments(call.function.arguments);
      if (!args.ok) {
        this.report('llm_tool_arguments_invalid', `${safeName(name)}: ${args.reason}; call skipped`);
        continue;
      }
      proposals.push({ slot: slotOfTool(name), value: args.value });
    }
    return proposals;
  }

  /** One number from the model: the answer's sentiment, −1…1; anything else is an error. */
  async sentiment(text: string, context: { language: string; question?: string }): Promise<number> {
    const answer = (await this.chat(sentimentPrompt(context), text)).trim();
    const score = Number(answer.match(/^-?\d+(?:\.\d+)?/)?.[0]);
    if (!Number.isFinite(score) || score < -1 || score > 1) {
      throw new LlmAssistError(
        'llm_sentiment_invalid',
        'sentiment: the model did not answer with a number from -1 to 1',
      );
    }
    return score;
  }

  /** One system + user exchange; a failed request is an LlmAssistError with its kind. */
  private async chat(system: string, user: string): Promise<string> {
    try {
      const completion = await this.client.chat.completions.create({
        model: this.model,
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: user },
        ],
        ...this.sampling(),
      });
      return completion.choices?.[0]?.message?.content ?? '';
    } catch (error) {
      const d = describeFailure(error);
      throw new LlmAssistError(d.error_type, d.message);
    }
  }

  private async reword(reply: string, context: PhraseContext): Promise<string> {
    let answer: string;
    try {
      answer = cleanAnswer(await this.chat(phrasePrompt(context), reply));
    } catch (error) {
      const failure = error as LlmAssistError;
      this.report(failure.error_type, `phrase: ${failure.message}; kept the template`);
      return reply;
    }
    if (!answer) {
      this.report('llm_phrase_empty', 'phrase: the model returned no text; kept the template');
      return reply;
    }
    const missing = missingFacts(reply, answer);
    const added = addedNumbers(reply, answer);
    if (missing.length || added.length) {
      this.report(
        'llm_phrase_changed_facts',
        `phrase: the rewording dropped ${missing.length} and added ${added.length} fact(s); kept the template`,
      );
      return reply;
    }
    return answer;
  }

  private sampling(): { temperature?: number } {
    return this.temperature !== undefined ? { temperature: this.temperature } : {};
  }

  private report(error_type: string, message: string): void {
    try {
      this.onError?.({ error_type, message });
    } catch {
      // a reporter bug must not break the call
    }
  }
}

function sentimentPrompt(context: { language: string; question?: string }): string {
  return [
    `You rate the sentiment of a customer's spoken answer (language ${context.language}) in a feedback call.`,
    context.question ? `The question was: "${context.question}"` : '',
    'Reply with one number only, from -1 (very negative) through 0 (neutral) to 1 (very positive), e.g. 0.6.',
  ]
    .filter(Boolean)
    .join('\n');
}

/**
 * The LLM assist for the configured provider: an {@link OpenAILlmAssist} on OPENAI_LLM_MODEL
 * through the same client as the other OpenAI providers (OPENAI_BASE_URL, PROVIDER_TIMEOUT_MS
 * per request, one retry), or undefined when the provider is local (the engine then runs on
 * rules and templates only). Rewording is off.
 */
export function llmAssistFromConfig(cfg: Config, client?: OpenAI): LlmAssist | undefined {
  if (cfg.resolvedProvider !== 'openai') return undefined;
  const opts = openAIOptionsFromConfig(cfg);
  return new OpenAILlmAssist({
    client: createOpenAIClient({ ...opts, ...(client ? { client } : {}) }),
    model: opts.llmModel,
  });
}

// --- prompts -------------------------------------------------------------------------------

function proposePrompt(r: ProposeRequest): string {
  return [
    `You help a phone agent understand a caller. Conversation: ${r.flow}; current step: ${r.state}.`,
    `The agent just said: ${JSON.stringify(r.lastPrompt)}`,
    `Now: ${localTime(r.now, r.timeZone)}.`,
    `Already known: ${safeJson(r.slots)}`,
    'The next message is what the caller said. Call a tool for each fact it clearly states (several at ' +
      `once if it states several). Resolve relative dates and times ("tomorrow", "next Tuesday", "half ` +
      `past two") in the ${r.timeZone} time zone. Never guess or invent a value: if the caller states ` +
      'nothing a tool can record, call no tool.',
  ].join('\n');
}

function phrasePrompt(c: PhraseContext): string {
  return [
    `You reword what a friendly phone receptionist is about to say (conversation: ${c.flow}; step: ${c.state}).`,
    'Make it sound natural when spoken aloud, about as short as the original. Keep every fact exactly as ' +
      'written: names, days, dates, times, numbers and codes (keep spelled-out characters and digits ' +
      'as they are). Do not add information, greetings or new questions; keep any question it asks.',
    'Answer with the reworded text only.',
  ].join('\n');
}

/** "Wednesday, March 5, 2025 at 10:00 AM in America/New_York (2025-03-05; 2025-03-05T15:00:00.000Z)". */
function localTime(iso: string, timeZone: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return `${iso} (${timeZone})`;
  try {
    const spoken = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'long',
      year: 'numeric',
      month: 'long',
      day: 'numeric',
      hour: 'numeric',
      minute: '2-digit',
    }).format(at);
    const day = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    }).format(at);
    return `${spoken} in ${timeZone} (today is ${day}; instant ${at.toISOString()})`;
  } catch {
    return `${at.toISOString()} (${timeZone})`;
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value ?? {});
  } catch {
    return '{}';
  }
}

// --- answers -------------------------------------------------------------------------------

type Parsed = { ok: true; value: unknown } | { ok: false; reason: string };

/** The `value` of a tool call's JSON arguments. */
function parseArguments(raw: unknown): Parsed {
  if (typeof raw !== 'string' || !raw.trim()) return { ok: false, reason: 'arguments are empty' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { ok: false, reason: `arguments are not valid JSON (${raw.length} characters)` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { ok: false, reason: 'arguments are not a JSON object' };
  if (!Object.hasOwn(parsed, 'value')) return { ok: false, reason: 'arguments have no "value"' };
  return { ok: true, value: (parsed as { value: unknown }).value };
}

/** Strips what models wrap answers in: surrounding quotes, a "Reworded:" label, whitespace. */
function cleanAnswer(text: string): string {
  let t = text.trim().replace(/^(?:reworded(?: text)?|rephrased|here(?:'s| is) [^:]{0,40}):\s*/i, '');
  const quoted = /^(["'“])([\s\S]*)(["'”])$/.exec(t);
  if (quoted && !quoted[2]!.includes(quoted[1]!)) t = quoted[2]!;
  return t.trim();
}

function safeName(name: unknown): string {
  return (
    String(name)
      .replace(/[^\w.-]/g, '_')
      .slice(0, 64) || '(none)'
  );
}

/** A sanitized kind and message of a failed request (no prompt or body echoes). */
function describeFailure(error: unknown): LlmAssistErrorReport {
  if (error instanceof APIConnectionTimeoutError)
    return { error_type: 'llm_timeout', message: 'the LLM server did not answer in time' };
  if (error instanceof APIUserAbortError)
    return { error_type: 'llm_aborted', message: 'the LLM request was aborted' };
  if (error instanceof APIConnectionError)
    return { error_type: 'llm_unavailable', message: 'could not connect to the LLM server' };
  if (error instanceof APIError) {
    const code = typeof error.code === 'string' ? ` (${safeName(error.code)})` : '';
    return { error_type: 'llm_http_error', message: `the LLM server answered HTTP ${error.status}${code}` };
  }
  return {
    error_type: 'llm_error',
    message: `the LLM request failed (${error instanceof Error ? safeName(error.name) : typeof error})`,
  };
}

// --- fact check ----------------------------------------------------------------------------

const SPELLED = /\b[A-Z0-9](?:(?:,\s*|\s+)[A-Z0-9]\b){2,}/g;
const TIME = /\b(\d{1,2})(?::(\d{2}))?\s*([ap])\.?\s*m\b\.?|\b(noon|midnight)\b/gi;

/** Facts of a reply: spelled sequences ("A, F, 3" → "AF3"), times ("10:30am"), numbers. */
function facts(text: string): { spelled: string[]; times: string[]; numbers: string[] } {
  const spelled: string[] = [];
  let rest = text.replace(SPELLED, (m) => {
    spelled.push(m.replace(/[^A-Z0-9]/g, ''));
    return ' ';
  });
  const times: string[] = [];
  rest = rest.replace(TIME, (_m, h: string, mm: string, ap: string, word: string) => {
    if (word) times.push(word.toLowerCase() === 'noon' ? '12:00pm' : '12:00am');
    else times.push(`${Number(h)}:${mm ?? '00'}${ap.toLowerCase()}m`);
    return ' ';
  });
  const numbers = rest.match(/\d+/g) ?? [];
  return { spelled, times, numbers };
}

/** Upper-case letters and digits only: "A, F, 3" and "AF3" and "(555) 123-4567" all compare. */
const compact = (text: string) => text.toUpperCase().replace(/[^A-Z0-9]/g, '');

/**
 * The facts of `original` that `reworded` lost: each spelled code or phone number (compared
 * without separators), each time ("10:30 AM" = "10:30 a.m.", "noon" = "12 PM") and each other
 * digit sequence ("6th" needs a "6"). Cheap and strict: "March sixth" for "March 6th" counts
 * as lost.
 */
export function missingFacts(original: string, reworded: string): string[] {
  const want = facts(original);
  const have = facts(reworded);
  const flat = compact(reworded);
  const haveNumbers = new Set(reworded.match(/\d+/g) ?? []);
  const haveTimes = new Set(have.times);
  return [
    ...want.spelled.filter((s) => !flat.includes(s)),
    ...want.times.filter((t) => !haveTimes.has(t)),
    ...want.numbers.filter((n) => !haveNumbers.has(n)),
  ];
}

/** Digit sequences of `reworded` that appear nowhere in `original` (an invented number). */
function addedNumbers(original: string, reworded: string): string[] {
  const flat = compact(original);
  return (reworded.match(/\d+/g) ?? []).filter((n) => !flat.includes(n));
}
