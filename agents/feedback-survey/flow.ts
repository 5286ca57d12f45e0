import { z } from 'zod';
import { defineFlow, type Flow, type FlowRecord, found, slot, yesNo } from '../../src/conversation/index.js';
import { isUnclearAnswer } from './answers.js';
import { type SurveyLanguage, surveyPhrases } from './phrases.js';
import { sentimentOf } from './sentiment.js';

/** One selected question as the call asks it. */
export interface SurveyQuestion {
  id: string;
  text: string;
  /** Asked in turn when an answer is empty or unclear; then the answer is kept as it is. */
  followUps: readonly string[];
}

export interface SurveyCallPlan {
  /** The survey_calls row the answers belong to; without one (a demo) nothing is recorded. */
  surveyCallId?: string;
  businessName: string;
  language: SurveyLanguage;
  questions: readonly SurveyQuestion[];
  /** The seed's hard limit on a survey call. */
  limitSeconds?: number;
  /** How long before the limit the caller is warned. */
  warnBeforeSeconds?: number;
  timeZone?: string;
}

interface Answer {
  text: string;
  unclear: boolean;
  /** The recognizer's confidence in the words (none for typed text). */
  confidence: number | null;
}

/** Seed 003's call statuses a call itself can reach (connecting is the dialler's). */
export type SurveyCallStatus = 'in_progress' | 'completed' | 'timeout' | 'failed';

interface SurveyData {
  index: number;
  followUp: number;
  startedAt: number | null;
  askedAt: number | null;
  warned: boolean;
}

const MAX_RESPONSE_SECONDS = 60;

/** How customers answer visit questions (English; Swedish calls recognize with openai). */
const FEEDBACK_PHRASES = [
  'it was very good',
  'it was good',
  'it was great',
  'it was okay',
  'it was fine',
  'it was bad',
  'it was terrible',
  'very satisfied',
  'not satisfied',
  'the staff were friendly',
  'the staff were very friendly',
  'the service was good',
  'the service was slow',
  'the waiting time was too long',
  'shorter waiting times',
  'it was clean',
  'too expensive',
  'good value',
  'nothing',
  'no nothing',
  'everything was fine',
  'maybe shorter waiting times',
  'more parking',
  'better opening hours',
  'i would recommend it',
];

const SWEDISH_NO = /\b(nej|nä|nää|inte nu|har inte tid|ingen tid)\b/;
const SWEDISH_YES = /\b(ja|javisst|japp|visst|absolut|gärna|okej|det går bra|kör)\b/;

// "I'm busy right now" holds a "right" that reads as yes: a refusal of the call's time wins.
const ENGLISH_NOT_NOW =
  /\b(busy|not now|not right now|no time|not a good time|bad time|(do not|don't|dont) have (the )?(time|a minute)|call (me )?(back|later)|some other time)\b/;

/** The Swedish consent answers ("ja, gärna", "nej tack"); null when neither. */
function swedishYesNo(text: string): boolean | null {
  if (SWEDISH_NO.test(text)) return false;
  return SWEDISH_YES.test(text) ? true : null;
}

/**
 * The survey call (seed 003): consent first, then each selected question with its follow-ups
 * when an answer says nothing, each answer recorded with its duration and sentiment; a warning
 * shortly before the time limit and a polite end at it (reason `timeout`). The limit is
 * checked whenever the call moves to the next question.
 */
export function createFeedbackSurveyFlow(plan: SurveyCallPlan): Flow {
  const say = surveyPhrases(plan.language);
  const limitMs = (plan.limitSeconds ?? 120) * 1000;
  const warnMs = limitMs - (plan.warnBeforeSeconds ?? 15) * 1000;
  const current = (data: SurveyData) => plan.questions[data.index]!;
  // A call without its survey_calls row (demo, simulation) has nowhere to keep answers.
  const recorded = (records: FlowRecord[]): FlowRecord[] => (plan.surveyCallId ? records : []);
  const progress = (status: SurveyCallStatus | undefined, event: string, reason?: string) =>
    recorded([
      {
        type: 'survey_status',
        data: {
          survey_call_id: plan.surveyCallId,
          event,
          ...(status ? { status } : {}),
          ...(reason ? { reason } : {}),
        },
      },
    ]);
  type Ending = 'goodbye' | 'declined_goodbye' | 'stopped_goodbye' | 'time_up';
  const closing = (status: SurveyCallStatus, reason: string, next: Ending) => ({
    run: () => ({ goto: next, records: progress(status, status, reason) }),
  });
  return defineFlow({
    name: 'feedback-survey',
    description: `Asks ${plan.businessName}'s customers a few questions about their visit.`,
    timeZone: plan.timeZone,
    data: (): SurveyData => ({ index: 0, followUp: 0, startedAt: null, askedAt: null, warned: false }),
    // The offline recognizer hears only what its language knows: the words of this call's
    // questions and follow-ups, and what customers say about a visit.
    vocabulary: {
      phrases: [
        ...plan.questions.flatMap((question) => [question.text, ...question.followUps]),
        ...FEEDBACK_PHRASES,
      ],
    },
    slots: {
      consent: slot<boolean>({
        schema: z.boolean(),
        extract: (utterance) => {
          const swedish = swedishYesNo(utterance.text);
          if (swedish !== null) return found(swedish, 0.9, 'regex');
          if (ENGLISH_NOT_NOW.test(utterance.text)) return found(false, 0.9, 'regex');
          const english = yesNo(utterance);
          return english ? found(english.value, english.confidence, 'regex') : null;
        },
        expects: 'confirm',
        description: 'whether the customer agrees to answer',
        prompt: say.consent(plan.businessName, plan.questions.length),
        reprompt: say.yesOrNo,
      }),
      answer: slot<Answer>({
        schema: z.object({ text: z.string(), unclear: z.boolean(), confidence: z.number().nullable() }),
        // Any words answer the question asked; only then (asked), never out of turn.
        extract: (utterance, ctx) =>
          ctx.asked
            ? found(
                {
                  text: utterance.raw.trim(),
                  unclear: isUnclearAnswer(utterance.raw),
                  confidence: ctx.sttConfidence ?? null,
                },
                1,
                'nlp',
              )
            : null,
        expects: 'open',
        description: "the customer's answer to the question just asked",
        prompt: (c) => current(c.data as unknown as SurveyData).text,
        speak: (answer) => answer.text,
      }),
    },
    accepts: [],
    intents: { cancel: 'stopped' },
    fallback: 'failed',
    noInput: 'silent',
    initial: 'start',
    messages: { stillThere: say.stillThere, notUnderstood: say.notUnderstood, yesOrNo: say.yesOrNo },
    states: {
      start: {
        run: (c) => {
          c.data.startedAt = c.now.getTime();
          return {
            goto: plan.questions.length ? 'consent' : 'thanks',
            records: progress('in_progress', 'ai_connected'),
          };
        },
      },
      consent: { collect: ['consent'], next: (c) => (c.slots.consent ? 'next' : 'declined') },
      next: {
        run: (c) => {
          const elapsed = c.now.getTime() - (c.data.startedAt ?? c.now.getTime());
          if (c.data.index >= plan.questions.length) return { goto: 'thanks' };
          if (elapsed >= limitMs) return { goto: 'timeout' };
          c.data.askedAt = c.now.getTime();
          c.data.followUp = 0;
          if (!c.data.warned && elapsed >= warnMs) {
            c.data.warned = true;
            return { goto: 'ask', say: say.warning, records: progress(undefined, 'warning_sent') };
          }
          return { goto: 'ask' };
        },
      },
      ask: { collect: ['answer'], next: 'record', maxRetries: 1 },
      follow_up: {
        prompt: (c) => current(c.data).followUps[c.data.followUp - 1]!,
        collect: ['answer'],
        next: 'record',
        maxRetries: 1,
      },
      record: {
        run: async (c) => {
          const answer = c.slots.answer!;
          const question = current(c.data);
          if (answer.unclear && c.data.followUp < question.followUps.length) {
            c.data.followUp += 1;
            return { goto: 'follow_up', clear: ['answer'] };
          }
          const askedAt = c.data.askedAt ?? c.now.getTime();
          const respondedAt = Math.max(askedAt, c.now.getTime());
          // The LLM's score when one is configured, else (or when it fails) the offline lexicon.
          const llmScore = answer.unclear
            ? null
            : ((await c.sentiment?.(answer.text, { language: plan.language, question: question.text })) ??
              null);
          const sentiment = answer.unclear || llmScore !== null ? null : sentimentOf(answer.text);
          c.data.index += 1;
          return {
            goto: 'next',
            clear: ['answer'],
            say: say.thanksForAnswer,
            records: recorded([
              {
                type: 'survey_response',
                data: {
                  survey_call_id: plan.surveyCallId,
                  question_id: question.id,
                  question_text: question.text,
                  response_text: answer.text,
                  unclear: answer.unclear,
                  follow_ups_asked: c.data.followUp,
                  asked_at: new Date(askedAt).toISOString(),
                  responded_at: new Date(respondedAt).toISOString(),
                  response_duration: Math.min(
                    MAX_RESPONSE_SECONDS,
                    Math.round((respondedAt - askedAt) / 1000),
                  ),
                  confidence_score: answer.confidence,
                  sentiment_score: llmScore ?? sentiment?.score ?? null,
                  ai_analysis:
                    llmScore !== null
                      ? { method: 'llm' }
                      : sentiment
                        ? { method: 'lexicon', evidence: sentiment.evidence }
                        : null,
                },
              },
            ]),
          };
        },
      },
      // Each ending records the survey call's status before its goodbye (terminal states
      // carry no records).
      thanks: closing('completed', 'completed', 'goodbye'),
      declined: closing('completed', 'consent_declined', 'declined_goodbye'),
      stopped: closing('completed', 'caller_stopped', 'stopped_goodbye'),
      timeout: closing('timeout', 'timeout', 'time_up'),
      goodbye: { prompt: say.goodbye, terminal: { action: 'end_call', reason: 'completed' } },
      declined_goodbye: {
        prompt: say.declined,
        terminal: { action: 'end_call', reason: 'consent_declined' },
      },
      stopped_goodbye: { prompt: say.declined, terminal: { action: 'end_call', reason: 'caller_stopped' } },
      time_up: { prompt: say.timeUp, terminal: { action: 'end_call', reason: 'timeout' } },
      // The engine jumps straight to these (they must be terminal): the trigger marks the
      // survey call failed with the call's reason when it sees the call end.
      silent: { prompt: say.goodbye, terminal: { action: 'end_call', reason: 'no_input' } },
      failed: { prompt: say.goodbye, terminal: { action: 'end_call', reason: 'fallback' } },
    },
  });
}
