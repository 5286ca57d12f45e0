import { describe, expect, it } from 'vitest';
import type { Expectation } from '../../../../src/contracts/expectation.js';
import { PronouncingDictionary } from '../../../../src/providers/local/dictionary.js';
import { buildExpectationGrammar } from '../../../../src/providers/local/expectation-grammar.js';
import { isLikelyName } from '../../../../src/providers/local/names.js';

// The CMU dictionary the acoustic model ships with (installed by npm run setup).
const dict = PronouncingDictionary.load();
const exp = (kind: Expectation['kind'], extra: Partial<Expectation> = {}): Expectation => ({
  kind,
  state: 'ask',
  slots: ['appointment_time'],
  intentPhrases: ['talk to a person', 'cancel', 'repeat that'],
  ...extra,
});
const rule = (jsgf: string, name: string) => new RegExp(`^<${name}> = (.*);$`, 'm').exec(jsgf)?.[1];

describe('per-state grammars from an Expectation', () => {
  it('digits: only digit words (and intents), no letters or names', () => {
    const g = buildExpectationGrammar(exp('digits'), dict);
    expect(g.jsgf).toMatch(/^#JSGF V1.0;/);
    expect(rule(g.jsgf, 'digit')).toBe(
      'zero | oh | one | two | three | four | five | six | seven | eight | nine',
    );
    expect(g.words).toContain('double');
    expect(g.words).not.toContain('sarah');
    expect(g.words).not.toContain('j');
    expect(g.jsgf).toContain('public <utterance> = <answer> | <intent>;');
  });

  it('digits: as many digits as a whole answer has, no more', () => {
    const g = buildExpectationGrammar(exp('digits', { digits: { min: 4, max: 6 } }), dict);
    expect(rule(g.jsgf, 'answer')).toMatch(
      /<digit_group> <digit_group> <digit_group> <digit_group> \[<digit_group> \[<digit_group>\]\]$/,
    );
  });

  it('keeps the intent phrases hearable in every kind', () => {
    for (const kind of ['digits', 'date', 'time', 'datetime', 'confirm', 'name', 'spelling'] as const) {
      const g = buildExpectationGrammar(exp(kind), dict);
      expect(rule(g.jsgf, 'intent'), kind).toBe('talk to a person | cancel | repeat that');
    }
  });

  it('confirm accepts corrections naming the state slots and a new date or time', () => {
    const g = buildExpectationGrammar(exp('confirm'), dict);
    expect(rule(g.jsgf, 'trail')).toContain('would be better');
    expect(rule(g.jsgf, 'lead')).toContain('actually');
    expect(rule(g.jsgf, 'correction')).toContain('the <slot_word> is wrong');
    // a bare value is no correction (else "correct" is heard as "the third")
    expect(rule(g.jsgf, 'correction')?.split(' | ')).not.toContain('<value>');
    // "appointment_time" → the words appointment and time
    expect(rule(g.jsgf, 'slot_word')).toContain('appointment');
    expect(rule(g.jsgf, 'value')).toBe('<date> | <round_time>');
  });

  it('name: the built-in names plus the flow phrases; unknown words reported, not used', () => {
    const g = buildExpectationGrammar(exp('name', { phrases: ['furlong', 'zzqxname'] }), dict);
    expect(rule(g.jsgf, 'last_name')).toMatch(/\bfurlong\b/);
    expect(rule(g.jsgf, 'phrase')).toBe('furlong');
    expect(g.oov).toEqual(['zzqxname']);
    expect(g.jsgf).not.toContain('zzqxname');
  });

  it('choice: option words; no options and no phrases leaves only the keypad-number form', () => {
    const g = buildExpectationGrammar(exp('choice', { options: ['cleaning', 'checkup'] }), dict);
    expect(rule(g.jsgf, 'option')).toBe('cleaning | checkup');
    const bare = buildExpectationGrammar(exp('choice'), dict);
    expect(rule(bare.jsgf, 'option')).toBeUndefined();
    expect(rule(bare.jsgf, 'answer')).toBe('[option | number] <digit>');
  });

  it('spelling: letters with "as in" words', () => {
    const g = buildExpectationGrammar(exp('spelling'), dict);
    expect(rule(g.jsgf, 'spelled')).toBe('<letter> [as in <spelling_word>] | double <letter>');
    expect(rule(g.jsgf, 'letter')?.split(' | ')).toHaveLength(26);
    expect(rule(g.jsgf, 'spelling_word')).toMatch(/\bkilo\b/);
  });

  it('names the search by kind and content: same expectation, same name; different phrases, different', () => {
    const a = buildExpectationGrammar(exp('name'), dict);
    expect(buildExpectationGrammar(exp('name'), dict).name).toBe(a.name);
    expect(a.name).toMatch(/^name-[0-9a-f]{12}$/);
    expect(buildExpectationGrammar(exp('name', { phrases: ['furlong'] }), dict).name).not.toBe(a.name);
  });

  it('refuses open: that is the flow n-gram', () => {
    expect(() => buildExpectationGrammar(exp('open'), dict)).toThrow(/n-gram/);
  });

  it('every grammar word has a pronunciation', () => {
    for (const kind of ['digits', 'datetime', 'confirm', 'name', 'spelling'] as const) {
      for (const w of buildExpectationGrammar(exp(kind), dict).words) expect(dict.has(w), w).toBe(true);
    }
  });
});

describe('isLikelyName', () => {
  it('accepts dictionary names outside the built-in lists, refuses answers and the flow vocabulary', () => {
    expect(isLikelyName('furlong')).toBe(true);
    expect(isLikelyName('Kim')).toBe(true);
    expect(isLikelyName('cleaning', { exclude: ['cleaning', 'checkup'] })).toBe(false);
    expect(isLikelyName('friday')).toBe(false);
    expect(isLikelyName('yes')).toBe(false);
    expect(isLikelyName('qzxv')).toBe(false);
  });
});
