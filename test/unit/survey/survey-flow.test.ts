import { describe, expect, it } from 'vitest';
import { createFeedbackSurveyFlow, type SurveyCallPlan } from '../../../agents/feedback-survey/flow.js';
import {
  ConversationEngine,
  type EngineReply,
  type LlmAssist,
  RecordingObserver,
} from '../../../src/conversation/index.js';
import { seededRandom } from '../../../src/util/random.js';

const plan: SurveyCallPlan = {
  surveyCallId: '0b6c1f8e-6a8e-4d55-9d1e-2f6e1c7a9b01',
  businessName: 'Bakery North',
  language: 'en-US',
  questions: [
    {
      id: 'q-service',
      text: 'How was the service at the checkout today?',
      followUps: ['Was the queue short or long?'],
    },
    { id: 'q-bread', text: 'What did you think of the bread?', followUps: [] },
  ],
};

/** A survey call on a clock the test moves, answered line by line. */
async function surveyCall(callPlan: SurveyCallPlan, llm?: LlmAssist) {
  let now = Date.parse('2026-12-07T10:00:00Z');
  const observer = new RecordingObserver();
  const engine = new ConversationEngine(createFeedbackSurveyFlow(callPlan), {
    now: () => new Date(now),
    timeZone: 'Europe/Stockholm',
    random: seededRandom(3),
    observer,
    ...(llm ? { llm, llmTimeoutMs: 200 } : {}),
  });
  const replies: EngineReply[] = [await engine.start()];
  return {
    observer,
    replies,
    async answer(text: string, afterSeconds = 5): Promise<EngineReply> {
      now += afterSeconds * 1000;
      const reply = await engine.handleUserText(text);
      replies.push(reply);
      return reply;
    },
    responses: () =>
      observer.records.filter((record) => record.type === 'survey_response').map((record) => record.data),
    statuses: () =>
      observer.records.filter((record) => record.type === 'survey_status').map((record) => record.data),
  };
}

describe('feedback survey flow (text level)', () => {
  it('asks consent first and ends politely when the customer says no, recording no answers', async () => {
    const call = await surveyCall(plan);
    expect(call.replies[0]!.text).toContain('Do you have a minute for 2 quick questions?');
    const reply = await call.answer('no sorry not now');
    expect(reply.terminal).toBe(true);
    expect(reply.actions).toEqual([{ type: 'end_call', reason: 'consent_declined' }]);
    expect(reply.text).toMatch(/No problem/);
    expect(call.responses()).toEqual([]);
    expect(call.statuses()).toEqual([
      { survey_call_id: plan.surveyCallId, event: 'ai_connected', status: 'in_progress' },
      {
        survey_call_id: plan.surveyCallId,
        event: 'completed',
        status: 'completed',
        reason: 'consent_declined',
      },
    ]);
  });

  it('takes "I am busy right now" as a refusal, though "right" alone would be a yes', async () => {
    const call = await surveyCall(plan);
    expect((await call.answer("I'm busy right now")).actions).toEqual([
      { type: 'end_call', reason: 'consent_declined' },
    ]);
  });

  it('records nothing for a call without its survey call (a demo)', async () => {
    const call = await surveyCall({ ...plan, surveyCallId: undefined });
    await call.answer('yes');
    await call.answer('it was great');
    await call.answer('nothing');
    expect(call.observer.records).toEqual([]);
  });

  it('asks every question, records each answer with duration and sentiment, and ends completed', async () => {
    const call = await surveyCall(plan);
    expect((await call.answer('yes sure')).text).toContain('How was the service at the checkout today?');
    expect((await call.answer('the staff were really friendly', 8)).text).toContain(
      'What did you think of the bread?',
    );
    const end = await call.answer('it was stale and expensive', 6);
    expect(end.actions).toEqual([{ type: 'end_call', reason: 'completed' }]);
    const [service, bread] = call.responses() as Record<string, unknown>[];
    expect(service).toMatchObject({
      question_id: 'q-service',
      response_text: 'the staff were really friendly',
      response_duration: 8,
    });
    expect(service!.sentiment_score as number).toBeGreaterThan(0.3);
    expect(bread).toMatchObject({ question_id: 'q-bread', response_duration: 6, unclear: false });
    expect(bread!.sentiment_score as number).toBeLessThan(-0.3);
    expect(Date.parse(bread!.asked_at as string)).toBeLessThanOrEqual(
      Date.parse(bread!.responded_at as string),
    );
  });

  it('follows an unclear answer up with the prompt, then keeps what the customer says', async () => {
    const call = await surveyCall(plan);
    await call.answer('yes');
    expect((await call.answer("um I don't know")).text).toContain('Was the queue short or long?');
    await call.answer('the queue was long but it moved fast');
    const [service] = call.responses() as Record<string, unknown>[];
    expect(service).toMatchObject({
      response_text: 'the queue was long but it moved fast',
      follow_ups_asked: 1,
    });
    // A second unclear answer to a question without follow-ups is kept as unclear, not asked again.
    const end = await call.answer('hmm');
    expect(end.actions).toEqual([{ type: 'end_call', reason: 'completed' }]);
    expect(call.responses()[1]).toMatchObject({
      question_id: 'q-bread',
      unclear: true,
      sentiment_score: null,
    });
  });

  it('warns about 15 s before the limit and ends the call at it with the reason timeout', async () => {
    const long: SurveyCallPlan = {
      ...plan,
      questions: ['one', 'two', 'three'].map((word) => ({
        id: word,
        text: `Question number ${word}, how was it?`,
        followUps: [],
      })),
    };
    const call = await surveyCall(long);
    await call.answer('yes', 5);
    const warned = await call.answer('it was good', 100);
    expect(warned.text).toMatch(/almost out of time.*Question number two/);
    const end = await call.answer('fine', 20);
    expect(end.actions).toEqual([{ type: 'end_call', reason: 'timeout' }]);
    expect(end.text).toMatch(/all the time we have/);
    expect(call.statuses().map((status) => status.event)).toEqual([
      'ai_connected',
      'warning_sent',
      'timeout',
    ]);
    expect(call.statuses().at(-1)).toMatchObject({ status: 'timeout', reason: 'timeout' });
    expect(call.responses().map((response) => (response as { question_id: string }).question_id)).toEqual([
      'one',
      'two',
    ]);
  });

  it('speaks Swedish for a Swedish business and understands "ja"', async () => {
    const call = await surveyCall({
      ...plan,
      language: 'sv-SE',
      questions: [{ id: 'kassa', text: 'Hur upplevde du servicen i kassan idag?', followUps: [] }],
    });
    expect(call.replies[0]!.text).toContain('Har du en minut för en snabb fråga?');
    expect((await call.answer('ja gärna')).text).toContain('Hur upplevde du servicen i kassan idag?');
    const end = await call.answer('personalen var jättetrevlig');
    expect(end.text).toMatch(/Hej då/);
    expect((call.responses()[0] as { sentiment_score: number }).sentiment_score).toBeGreaterThan(0);
  });

  it('scores sentiment with the LLM when one is configured, and falls back to the lexicon when it fails', async () => {
    const asked: string[] = [];
    // A fake LLM: proposes nothing, scores every answer 0.25 (the lexicon would say much more).
    const fakeLlm: LlmAssist = {
      proposeSlots: async () => [],
      sentiment: async (_text, context) => {
        asked.push(context.question ?? '');
        if (asked.length > 1) throw new Error('model unavailable');
        return 0.25;
      },
    };
    const call = await surveyCall(plan, fakeLlm);
    await call.answer('yes');
    await call.answer('the staff were really friendly');
    await call.answer('it was stale and expensive');
    const [service, bread] = call.responses() as Record<string, unknown>[];
    expect(service).toMatchObject({ sentiment_score: 0.25, ai_analysis: { method: 'llm' } });
    expect(bread).toMatchObject({ ai_analysis: { method: 'lexicon' } });
    expect(bread!.sentiment_score as number).toBeLessThan(-0.3);
    expect(asked).toEqual(['How was the service at the checkout today?', 'What did you think of the bread?']);
    expect(call.observer.errors.map((error) => error.where)).toContain('llm');
  });
});
