import { describe, expect, it } from 'vitest';
import { APPOINTMENT_BOOKING_LANGUAGE } from '../../../agents/appointment-booking/index.js';
import { PronouncingDictionary } from '../../../src/providers/local/dictionary.js';
import { buildArpa, compileDomainLanguage } from '../../../src/providers/local/domain-language.js';
import { normalizeSentence, numberToWords, ordinalToWords } from '../../../src/providers/local/normalize.js';
import { pooledWer, wordErrors } from '../../../src/providers/local/wer.js';

const dict = PronouncingDictionary.load();

describe('text normalization (spoken words in CMU-dictionary spelling)', () => {
  it.each([
    ['At 3:30 PM.', 'at three thirty p m'],
    ['10am works', 'ten a m works'],
    ['at 9:05 a.m.', 'at nine oh five a m'],
    ['2:00', "two o'clock"],
    ['March 5th, the 21st', 'march fifth the twenty first'],
    ['Code AB37K', 'code a b three seven k'],
    ['call 555-0198', 'call five five five zero one nine eight'],
    ['or (415) 555-0198', 'or four one five five five five zero one nine eight'],
    ['room 1204', 'room one thousand two hundred four'],
    ['call 0412', 'call zero four one two'],
    ['2.5 hours', 'two point five hours'],
    ["I'd like twenty-five — José's", "i'd like twenty five jose's"],
    ['It’s Dr. Lee & co.', "it's dr lee and co"],
  ])('%s → %s', (input, expected) => {
    expect(normalizeSentence(input)).toBe(expected);
  });

  it('spells unknown all-caps tokens when it can check the dictionary', () => {
    expect(normalizeSentence('my code is XQJ', { isWord: (w) => dict.has(w) })).toBe('my code is x q j');
    expect(normalizeSentence('call NASA OK', { isWord: (w) => dict.has(w) })).toBe('call nasa ok');
  });

  it('numbers and ordinals', () => {
    expect(numberToWords(0)).toBe('zero');
    expect(numberToWords(115)).toBe('one hundred fifteen');
    expect(numberToWords(40_012)).toBe('forty thousand twelve');
    expect(ordinalToWords(1)).toBe('first');
    expect(ordinalToWords(22)).toBe('twenty second');
    expect(ordinalToWords(30)).toBe('thirtieth');
  });
});

describe('word error rate', () => {
  it('counts substitutions, deletions and insertions on normalized words', () => {
    expect(wordErrors('at 3:30 PM', 'at three thirty p m').wer).toBe(0);
    expect(wordErrors('no make it wednesday', 'no make it monday')).toMatchObject({
      substitutions: 1,
      wer: 0.25,
    });
    expect(wordErrors('yes please', 'yes')).toMatchObject({ deletions: 1, wer: 0.5 });
    expect(wordErrors('yes', 'yes yes yes')).toMatchObject({ insertions: 2, wer: 2 });
    expect(pooledWer([wordErrors('a b c d', 'a b c d'), wordErrors('x y', 'x')])).toBeCloseTo(1 / 6);
  });
});

describe('domain language → dictionary, grammar, 3-gram', () => {
  it('compiles the booking language with every word in the dictionary', () => {
    const c = compileDomainLanguage(APPOINTMENT_BOOKING_LANGUAGE, dict);
    expect(c.oov).toEqual([]);
    expect(c.vocabulary.length).toBeGreaterThan(150);
    expect(c.vocabulary).toContain("o'clock");
    // Pronunciations only for the vocabulary, alternates included.
    expect(c.dictionary).toMatch(/^tuesday T UW Z D IY$/m);
    expect(c.dictionary).toMatch(/^tuesday\(2\) T UW Z D EY$/m);
    expect(c.dictionary.split('\n').length).toBeLessThan(600);
    expect(c.jsgf).toMatch(/^<slot_weekday> = monday \| tuesday/m);
    expect(c.jsgf).toMatch(/public <utterance> = <phrase>;/);
  });

  it('expands slots and keeps every value reachable', () => {
    const c = compileDomainLanguage(
      {
        phrases: ['my name is {first} {last}', 'yes'],
        slots: { first: ['John', 'Mary Ann'], last: ['Smith'] },
      },
      dict,
    );
    expect(c.arpa).toMatch(/\tis john\b/);
    expect(c.arpa).toMatch(/\tis mary\b/);
    expect(c.arpa).toMatch(/\tmary ann smith\b/);
    expect(c.jsgf).toMatch(/<slot_first> = john \| mary ann;/);
  });

  it('drops and reports words the dictionary does not know', () => {
    const c = compileDomainLanguage(
      {
        phrases: ['see doctor Vlxqz tomorrow', 'with {doc}'],
        slots: { doc: ['Doctor Lee', 'Doctor Qqzzv'] },
        words: ['Brrzt', 'yes'],
      },
      dict,
    );
    expect(c.oov).toEqual([
      { word: 'qqzzv', source: '{doc}: Doctor Qqzzv' },
      { word: 'vlxqz', source: 'see doctor Vlxqz tomorrow' },
      { word: 'brrzt', source: 'Brrzt' },
    ]);
    expect(c.vocabulary).toEqual(['doctor', 'lee', 'see', 'tomorrow', 'with', 'yes']);
    // The phrase is split at the unknown word rather than glued into a false n-gram.
    expect(c.arpa).not.toMatch(/\tdoctor tomorrow\b/);
  });

  it('rejects a phrase that uses an undeclared slot', () => {
    expect(() => compileDomainLanguage({ phrases: ['next {weekday}'] }, dict)).toThrow(
      /uses \{weekday\} but slots has no such entry \(known: none\)/,
    );
  });

  it('writes a normalized back-off 3-gram: every history distributes exactly probability 1', () => {
    const sentences = [
      ['yes', 'please'],
      ['no', 'thanks'],
      ['yes'],
      ['no', 'make', 'it', 'monday'],
      ['no', 'make', 'it', 'tuesday'],
    ];
    const vocab = ['yes', 'please', 'no', 'thanks', 'make', 'it', 'monday', 'tuesday', 'wednesday'];
    const lm = parseArpa(buildArpa(sentences, vocab));
    const words = [...vocab, '</s>'];
    for (const h of [
      [],
      ['<s>'],
      ['no'],
      ['wednesday'],
      ['<s>', 'no'],
      ['no', 'make'],
      ['make', 'it'],
      ['it', 'friday'],
    ]) {
      const total = words.reduce((sum, w) => sum + 10 ** lm.logp([...h, w]), 0);
      expect(total, `history "${h.join(' ')}"`).toBeCloseTo(1, 4);
    }
    expect(lm.logp(['make', 'it', 'monday'])).toBeGreaterThan(lm.logp(['make', 'it', 'wednesday']));
  });
});

/** Minimal ARPA reader with back-off evaluation, independent of the writer. */
function parseArpa(text: string): { logp: (ngram: string[]) => number } {
  const prob = new Map<string, number>();
  const bow = new Map<string, number>();
  let order = 0;
  for (const line of text.split('\n')) {
    const m = /^\\(\d)-grams:$/.exec(line);
    if (m) {
      order = Number(m[1]);
      continue;
    }
    if (!order || !line.trim() || line.startsWith('\\')) continue;
    const parts = line.split('\t');
    const words = parts[1]!;
    expect(words.split(' ')).toHaveLength(order);
    prob.set(words, Number(parts[0]));
    if (parts[2] !== undefined) bow.set(words, Number(parts[2]));
  }
  const logp = (ngram: string[]): number => {
    if (ngram.length === 0) return 0;
    const key = ngram.join(' ');
    const p = prob.get(key);
    if (p !== undefined) return p;
    if (ngram.length === 1) return Number.NEGATIVE_INFINITY;
    return (bow.get(ngram.slice(0, -1).join(' ')) ?? 0) + logp(ngram.slice(1));
  };
  return { logp: (ngram) => logp(ngram.slice(-3)) };
}
