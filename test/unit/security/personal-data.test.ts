import { describe, expect, it } from 'vitest';
import { DEV_PII_ENCRYPTION_KEY, DEV_PII_HASH_KEY } from '../../../src/config/config.js';
import { type ExtractContext, nameExtractor, todayIn, utterance } from '../../../src/conversation/index.js';
import {
  isSensitiveSlot,
  maskPhoneNumbers,
  protectSlotValue,
  protectTurn,
  sealContact,
} from '../../../src/persistence/personal-data.js';
import { PiiCipher } from '../../../src/persistence/pii.js';

const ring = new PiiCipher(DEV_PII_ENCRYPTION_KEY, DEV_PII_HASH_KEY);

describe('personal data at the durable boundary', () => {
  it.each([
    ['Your number is +1 555 010 2000, right?', '5550102000'],
    ['call 555-010-2000 please', '5550102000'],
    ['my number is (415) 555-2671', '4155552671'],
    ['I have five five five, zero one zero, two zero zero zero.', 'five five five, zero'],
    ['+44 20 7946 0958', '2079460958'],
  ])('masks the number in %j', (text, clear) => {
    const masked = maskPhoneNumbers(text);
    expect(masked.replace(/\D/g, '')).not.toContain(clear.replace(/\D/g, '') || '@');
    expect(masked).not.toContain(clear);
    expect(masked).toContain('•');
  });

  it('keeps short numbers, times and dates', () => {
    const text = 'Tuesday March 5 at 3:30 PM, code AB37K, 2 people';
    expect(maskPhoneNumbers(text)).toBe(text);
  });

  it('masks keypad turns unless the state marked them a menu choice', () => {
    const pin = protectTurn({ text: '4921', metadata: { input: 'dtmf' } });
    expect(pin.text).toBe('••••');
    const simulated = protectTurn({ text: '[DTMF 4921#]', metadata: { dtmf: '4921#' } });
    expect(simulated).toEqual({ text: '[DTMF •••••]', metadata: { dtmf: '•••••' } });
    const menu = protectTurn({ text: '2', metadata: { input: 'dtmf', menu_choice: true } });
    expect(menu.text).toBe('2');
    const said = protectTurn({
      text: 'it is 555 010 2000',
      transcribed_text: 'it is 555 010 2000',
      metadata: { input: 'speech' },
    });
    expect(said.text).not.toContain('010');
    expect(said.transcribed_text).not.toContain('010');
  });

  it('seals phone-like and sensitive slot values and every contact field, once', () => {
    expect(isSensitiveSlot('date', '2025-03-05')).toBe(false);
    expect(isSensitiveSlot('phone', 'this number')).toBe(true);
    expect(isSensitiveSlot('callback', '+15550102000')).toBe(true);
    expect(isSensitiveSlot('favourite', 'blue', true)).toBe(true);
    const sealed = protectSlotValue(ring, 'callback', '+15550102000');
    expect(sealed).toMatch(/^enc2:legacy:/);
    expect(ring.openText(sealed)).toBe('+15550102000');
    expect(protectSlotValue(ring, 'callback', sealed)).toBe(sealed);
    expect(protectSlotValue(ring, 'time', '15:30')).toBe('15:30');
    const contact = sealContact(ring, '+15550102000')!;
    expect(contact).not.toContain('5550102000');
    expect(ring.openText(contact)).toBe('+15550102000');
  });
});

describe('names keep their letters', () => {
  const ctx: ExtractContext = {
    now: new Date('2025-03-05T15:00:00Z'),
    timeZone: 'UTC',
    today: todayIn(new Date('2025-03-05T15:00:00Z'), 'UTC'),
    asked: true,
    slots: {},
    data: {},
  };
  it.each([
    ['my name is José García', 'José García'],
    ['this is Zoë Ångström', 'Zoë Ångström'],
    ['Łukasz Żółć', 'Łukasz Żółć'],
    // the same name typed with combining accents
    ['my name is Jose\u0301 Garci\u0301a', 'José García'],
  ])('%s → %s', (spoken, name) => {
    expect(nameExtractor(utterance(spoken), ctx)?.value).toBe(name);
  });
});

describe('the engine marks keypad menu choices, not data', () => {
  it('the greeting choice "1" is a menu choice; digits typed for the phone number are not', async () => {
    const { bookingCall } = await import('../conversation/helpers.js');
    const h = await bookingCall();
    await h.say({ dtmf: '1' });
    const first = h.rec.turns.find((t) => t.input === 'dtmf');
    expect(first?.menu_choice).toBe(true);
    await h.say('my name is ada lovelace', 'a checkup', 'tomorrow', 'ten am', { dtmf: '5' });
    const last = h.rec.turns.filter((t) => t.input === 'dtmf').at(-1);
    expect(last?.state_at_turn).toBe('collect_phone');
    expect(last?.menu_choice).toBeUndefined();
  });
});
