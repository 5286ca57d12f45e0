import { describe, expect, it } from 'vitest';
import {
  choiceExtractor,
  codeExtractor,
  detectIntents,
  digitRuns,
  type ExtractContext,
  generateCode,
  nameExtractor,
  offeredChoiceExtractor,
  phoneExtractor,
  ratingExtractor,
  todayIn,
  utterance,
  yesNo,
} from '../../../src/conversation/index.js';
import { NOW, seededRandom, TZ } from './helpers.js';

const ctx = (asked: boolean, extra: Partial<ExtractContext> = {}): ExtractContext => ({
  now: NOW,
  timeZone: TZ,
  today: todayIn(NOW, TZ),
  asked,
  slots: {},
  data: {},
  ...extra,
});
const u = utterance;

describe('names', () => {
  it.each([
    ['my name is john smith', 'John Smith'],
    ["my name's jane doe and i'd like to book", 'Jane Doe'],
    ["it's jane", 'Jane'],
    ['this is maria garcia calling', 'Maria Garcia'],
    ["hi this is o'brien", "O'Brien"],
    ['call me bob', 'Bob'],
    ['john smith', 'John Smith'],
    ['uh yeah john smith', 'John Smith'],
    ['j o h n', 'John'],
    ['the name is ada lovelace', 'Ada Lovelace'],
    ['mary-jane watson', 'Mary Jane Watson'],
    ['mary jane', 'Mary Jane'],
    ["i'm priya", 'Priya'],
    ['sure it is ahmed khan please', 'Ahmed Khan'],
  ])('asked: %s → %s', (spoken, name) => {
    expect(nameExtractor(u(spoken), ctx(true))?.value).toBe(name);
  });

  it.each([
    "i'm looking to book an appointment",
    "it's tuesday",
    'this is for a cleaning',
    'yes',
    'tomorrow at three',
    'i would like to book an appointment for next week',
    'five five five one two three four',
  ])('asked: no name in "%s"', (spoken) => {
    expect(nameExtractor(u(spoken), ctx(true))).toBeNull();
  });

  it('unprompted needs a cue, and "i\'m"/"it\'s" need a known first name', () => {
    expect(nameExtractor(u('tomorrow at three my name is sam jones'), ctx(false))?.value).toBe('Sam Jones');
    expect(nameExtractor(u('john smith'), ctx(false))).toBeNull();
    expect(nameExtractor(u("i'm sure"), ctx(false))).toBeNull();
    expect(nameExtractor(u("i'm john"), ctx(false))?.value).toBe('John');
    expect(nameExtractor(u("i'm zorblax"), ctx(false))).toBeNull();
  });

  it('known names are more certain than unknown ones', () => {
    const known = nameExtractor(u('my name is john smith'), ctx(true))!.confidence;
    const unknown = nameExtractor(u('my name is zorblax quux'), ctx(true))!.confidence;
    expect(known).toBeGreaterThan(unknown);
  });
});

describe('phone numbers', () => {
  const phone = phoneExtractor('US');
  it.each([
    ['five five five two one two three four five six', '+15552123456'],
    ['my number is four one five five five five two six seven one', '+14155552671'],
    ['four one five, five five five, two six seven one', '+14155552671'],
    ['two one two five five five oh one nine eight', '+12125550198'],
    ['two one two double five five zero one nine eight', '+12125550198'],
    ['eight hundred five five five one two one two', '+18005551212'],
    ['four one five five fifty five twenty six seventy one', '+14155552671'],
    ['(415) 555-2671', '+14155552671'],
    ['+44 20 7946 0958', '+442079460958'],
    ['one four one five five five five two six seven one', '+14155552671'],
  ])('%s → %s', (spoken, e164) => {
    expect(phone(u(spoken), ctx(true))?.value).toBe(e164);
  });

  it('too short: the digits as heard, with low confidence, so validation can explain', () => {
    const r = phone(u('five five five one two three four'), ctx(true));
    expect(r?.value).toBe('5551234');
    expect(r!.confidence).toBeLessThan(0.6);
  });

  it('"this number" uses the caller id', () => {
    expect(phone(u('just use this number'), ctx(true, { callerNumber: '+14155552671' }))?.value).toBe(
      '+14155552671',
    );
  });

  it('unprompted only for a full number or a cued one', () => {
    expect(phone(u('at three'), ctx(false))).toBeNull();
    expect(phone(u('four one five five five five two six seven one'), ctx(false))?.value).toBe(
      '+14155552671',
    );
  });

  it('digit runs', () => {
    expect(digitRuns('call me at five five five then one two three four please')).toEqual(['5551234']);
  });
});

describe('yes / no', () => {
  it.each([
    ['yes', true],
    ['yeah that sounds good', true],
    ["yep that's right", true],
    ['correct', true],
    ['uh huh', true],
    ['sure go ahead', true],
    ['no', false],
    ['nope', false],
    ["no that's wrong", false],
    ["that's not right", false],
    ['not quite', false],
    ['no thanks', false],
  ])('%s → %s', (spoken, value) => {
    expect(yesNo(u(spoken))?.value).toBe(value);
  });

  it.each(['maybe', 'i am not sure yes no', 'tuesday'])('unclear: %s', (spoken) => {
    expect(yesNo(u(spoken))).toBeNull();
  });
});

describe('intents', () => {
  it.each([
    ['i want to speak to a human', ['human']],
    ['operator', ['human']],
    ['agent', ['human']],
    ['can i talk to a real person please', ['human']],
    ['get me a representative', ['human']],
    ['transfer me to the front desk', ['human']],
    ['never mind', ['cancel']],
    ['forget it', ['cancel']],
    ['cancel that', ['cancel']],
    ['ok bye', ['cancel']],
    ['can you repeat that', ['repeat']],
    ['sorry what', ['repeat']],
    ['what', ['repeat']],
    ['i would like a cleaning', []],
    ['the agent said tuesday', []],
    ['i need to get in to see the doctor', []],
  ])('%s → %j', (spoken, intents) => {
    expect(detectIntents(u(spoken))).toEqual(intents);
  });
});

describe('confirmation codes', () => {
  const code = codeExtractor(6);
  it.each([
    ['a f three k q nine', 'AF3KQ9'],
    ['alpha foxtrot three kilo quebec nine', 'AF3KQ9'],
    ['my code is h j k two three four', 'HJK234'],
    ['a as in apple f as in frank three k q nine', 'AF3KQ9'],
    ['AF3KQ9', 'AF3KQ9'],
    ['a f 3 k q 9', 'AF3KQ9'],
    ['double you ex why two two four', 'WXY224'],
    ['w x y double two four', 'WXY224'],
    ['i have a code a f three k q nine', 'AF3KQ9'],
  ])('%s → %s', (spoken, value) => {
    expect(code(u(spoken), ctx(true))?.value).toBe(value);
  });

  it('only when asked', () => {
    expect(code(u('a f three k q nine'), ctx(false))).toBeNull();
  });

  it('generated codes use the unambiguous alphabet', () => {
    const random = seededRandom(1);
    for (let i = 0; i < 200; i++) expect(generateCode(random)).toMatch(/^[AFHJKQRUWXY234679]{6}$/);
  });
});

describe('ratings and choices', () => {
  const rating = ratingExtractor();
  it.each([
    ['five', 5],
    ["i'd give it a four", 4],
    ['four out of five', 4],
    ['three stars', 3],
    ['excellent', 5],
    ['it was not good', 2],
    ['ten', 10],
  ])('rating %s → %s', (spoken, value) => {
    expect(rating(u(spoken), ctx(true))?.value).toBe(value);
  });

  const types = choiceExtractor(
    { checkup: ['check up', 'physical'], cleaning: ['teeth cleaning', 'clean'] },
    { unprompted: true },
  );
  it.each([
    ['a check up please', 'checkup'],
    ['just my annual physical', 'checkup'],
    ['i need my teeth cleaned', null],
    ['cleaning', 'cleaning'],
  ])('choice %s → %s', (spoken, value) => {
    expect(types(u(spoken), ctx(true))?.value ?? null).toBe(value);
  });

  it('picks among offered options ("the first one", "the later one")', () => {
    const pick = offeredChoiceExtractor<string>('alternatives');
    const c = ctx(true, { data: { alternatives: ['13:30', '14:30'] } });
    expect(pick(u('the first one'), c)?.value).toBe('13:30');
    expect(pick(u('the later one please'), c)?.value).toBe('14:30');
    expect(pick(u('the first one'), ctx(true))).toBeNull();
  });
});
