import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isUnclearAnswer } from '../../../agents/feedback-survey/answers.js';
import { sentimentOf } from '../../../agents/feedback-survey/sentiment.js';

describe('survey answer sentiment (offline lexicon)', () => {
  it('reads praise as positive and complaints as negative, in English and Swedish', () => {
    expect(sentimentOf('The staff were really friendly and the bread was fresh').score).toBeGreaterThan(0.4);
    expect(sentimentOf('Personalen var jättetrevlig, mycket bra service').score).toBeGreaterThan(0.3);
    expect(sentimentOf('It was slow and the cashier was rude').score).toBeLessThan(-0.4);
    expect(sentimentOf('Kassan var långsam och det var smutsigt').score).toBeLessThan(-0.4);
  });

  it('turns "not good" negative and "not bad" positive, and intensifiers strengthen', () => {
    expect(sentimentOf('the coffee was not good').score).toBeLessThan(0);
    expect(sentimentOf("honestly it wasn't bad").score).toBeGreaterThan(0);
    expect(sentimentOf('det var inte bra').score).toBeLessThan(0);
    expect(sentimentOf('very good').score).toBeGreaterThan(sentimentOf('good').score);
    expect(sentimentOf('jättetrevlig').score).toBeGreaterThan(sentimentOf('trevlig').score);
    expect(sentimentOf('jätteotrevlig personal').score).toBeLessThan(sentimentOf('otrevlig personal').score);
  });

  it('gives 0 with no evidence to an answer without opinion words', () => {
    expect(sentimentOf('I bought some milk on Tuesday')).toEqual({ score: 0, evidence: [] });
  });

  it('always stays within −1…1', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('good', 'bad', 'not', 'very', 'bra', 'inte', 'awful', 'x'), {
          maxLength: 40,
        }),
        (list) => {
          const { score } = sentimentOf(list.join(' '));
          expect(score).toBeGreaterThanOrEqual(-1);
          expect(score).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});

describe('unclear survey answers', () => {
  it('treats silence, fillers and "I don\'t know" as unclear', () => {
    for (const text of [
      '',
      '   ',
      'um',
      'uh hmm',
      'öh',
      "I don't know",
      'vet inte',
      'jag vet inte',
      'no idea',
    ]) {
      expect(isUnclearAnswer(text), text).toBe(true);
    }
  });

  it('keeps real answers, even ones that mention not knowing among other words', () => {
    for (const text of [
      'good',
      'bra',
      'the queue was long',
      "I don't know why but the bread was stale and the queue was long",
    ]) {
      expect(isUnclearAnswer(text), text).toBe(false);
    }
  });
});
