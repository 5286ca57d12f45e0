import { describe, expect, it } from 'vitest';
import { toConversationPort } from '../../../src/conversation/index.js';
import { bookingCall } from './helpers.js';

// The booking flow as a worked example: each state's expectation follows from its slots.

describe('engine expectation', () => {
  it('names the kind each booking state waits for, with its slots and options', async () => {
    const h = await bookingCall();
    expect(h.engine.expectation()).toMatchObject({
      kind: 'choice',
      state: 'greeting',
      slots: ['intent'],
      options: ['cancel', 'reschedule', 'book'],
    });
    expect(h.engine.expectation().intentPhrases).toContain('operator');
    await h.say('i would like to book an appointment');
    expect(h.engine.expectation()).toMatchObject({ kind: 'name', state: 'collect_name', slots: ['name'] });
    expect(h.engine.expectation().phrases).toContain('my name is john smith');
    await h.say('my name is john smith', 'a check up please');
    expect(h.engine.expectation()).toMatchObject({ kind: 'date', slots: ['date'] });
    await h.say('next tuesday');
    expect(h.engine.expectation()).toMatchObject({ kind: 'time', slots: ['time'] });
    await h.say('three thirty p m');
    expect(h.engine.expectation()).toMatchObject({ kind: 'digits', digits: { min: 10, max: 11 } });
    await h.say('four one five five five five two six seven one');
    const confirm = h.engine.expectation();
    expect(confirm).toMatchObject({ kind: 'confirm', state: 'confirm_booking' });
    expect(confirm.phrases).toBeUndefined();
  });

  it('is reachable through the conversation port', async () => {
    const h = await bookingCall();
    const port = toConversationPort(h.engine);
    expect(port.expectation().state).toBe('greeting');
    expect(port.completesTurn('i want to book')).toBe(true);
  });
});

describe('engine completesTurn', () => {
  it('is true once every asked slot would be filled validly, false on a prefix', async () => {
    const h = await bookingCall();
    await h.say('i would like to book an appointment');
    // A name may go on after a pause ("john … smith"): never an early end.
    expect(h.engine.completesTurn('my name is')).toBe(false);
    expect(h.engine.completesTurn('my name is john')).toBe(false);
    expect(h.engine.completesTurn('my name is john smith')).toBe(false);
    await h.say('my name is john smith', 'a check up please', 'next tuesday', 'three thirty p m');
    expect(h.engine.completesTurn('four one five five')).toBe(false);
    expect(h.engine.completesTurn('four one five five five five two six seven one')).toBe(true);
  });

  it('refuses values the slot checks refuse (a Sunday when closed)', async () => {
    const h = await bookingCall();
    await h.say('i would like to book an appointment', 'my name is john smith', 'a check up please');
    expect(h.engine.completesTurn('next sunday')).toBe(false);
    expect(h.engine.completesTurn('next tuesday')).toBe(true);
  });

  it('hears a yes or a no in a confirm state and changes nothing', async () => {
    const h = await bookingCall();
    await h.say(
      'i would like to book an appointment',
      'my name is john smith',
      'a check up please',
      'next tuesday',
      'three thirty p m',
      'four one five five five five two six seven one',
    );
    const before = { state: h.engine.state, slots: h.engine.slots, slotRecords: h.rec.slots.length };
    expect(h.engine.completesTurn('yes')).toBe(true);
    expect(h.engine.completesTurn('no')).toBe(true);
    expect(h.engine.completesTurn('well')).toBe(false);
    expect({ state: h.engine.state, slots: h.engine.slots, slotRecords: h.rec.slots.length }).toEqual(before);
  });

  it('is false once the call has ended', async () => {
    const h = await bookingCall();
    await h.say('operator');
    expect(h.engine.isTerminal).toBe(true);
    expect(h.engine.completesTurn('yes')).toBe(false);
    expect(h.engine.completesTurn('book')).toBe(false);
  });
});
