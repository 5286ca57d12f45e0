import { describe, expect, it } from 'vitest';
import { utterance, wordsToDigits } from '../../../src/conversation/index.js';

describe('utterance normalization (STT-style lowercase words)', () => {
  it.each([
    ['three thirty p m', '3:30 pm'],
    ['Three-thirty P.M.', '3:30 pm'],
    ['at two fifteen in the afternoon', 'at 2:15 pm'],
    ['nine oh five a m', '9:05 am'],
    ['half past three', '3:30'],
    ['quarter to four', '3:45'],
    ['quarter past eleven', '11:15'],
    ['ten past two', '2:10'],
    ['noon', '12:00 pm'],
    ["four o'clock", '4:00'],
    ['four o clock', '4:00'],
    ['ten thirty in the morning', '10:30 am'],
    ['the fifth of march', 'the 5th of march'],
    ['march twenty first', 'march 21st'],
    ['on the twelfth', 'on the 12th'],
    ['tuesday the eleventh at three', 'tuesday the 11th at 3'],
    ['the first one', 'the first one'],
    ['the second option', 'the second option'],
    ['twenty twenty five', '20 25'],
    ['march fifth twenty twenty five', 'march 5th 20 25'],
    ['two thousand and twenty five', '2025'],
    ['one hundred twenty', '120'],
    ['five five five one two three four', '5 5 5 1 2 3 4'],
    ['in two days', 'in 2 days'],
  ])('%s → %s', (spoken, clock) => {
    expect(utterance(spoken).clock).toBe(clock);
  });

  it('keeps single digits apart so phone numbers and codes survive', () => {
    expect(wordsToDigits('five five five oh one two three')).toBe('5 5 5 0 1 2 3');
    expect(wordsToDigits('oh tuesday')).toBe('oh tuesday');
  });
});
