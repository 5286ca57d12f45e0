import { WEEKDAYS as CALENDAR_WEEKDAYS, MONTHS } from '../../src/conversation/clock.js';
import type { DomainLanguage } from '../../src/providers/local/domain-language.js';
import { numberToWords, ordinalToWords } from '../../src/providers/local/normalize.js';

/**
 * A reference DomainLanguage for the appointment-booking flow: what callers say when they
 * book, move or cancel an appointment. The conversation engine should supply the language of
 * the flow actually running (built from its own prompts and slots); this one is the default
 * for the booking demo and the yardstick the offline-recognition tests measure against.
 */

// Monday first, as callers list them (the engine's calendar order starts on Sunday).
const WEEKDAYS = [...CALENDAR_WEEKDAYS.slice(1), ...CALENDAR_WEEKDAYS.slice(0, 1)];
const FIRST_NAMES = [
  'john',
  'maria',
  'david',
  'james',
  'mary',
  'michael',
  'sarah',
  'robert',
  'linda',
  'emily',
  'daniel',
  'jennifer',
  'chris',
  'lisa',
  'anna',
  'peter',
  'paul',
  'laura',
  'kevin',
  'susan',
  'thomas',
  'karen',
  'mark',
  'nancy',
  'william',
  'elizabeth',
  'richard',
  'patricia',
  'joseph',
  'barbara',
];
const LAST_NAMES = [
  'smith',
  'garcia',
  'lee',
  'johnson',
  'brown',
  'jones',
  'miller',
  'davis',
  'wilson',
  'taylor',
  'anderson',
  'thomas',
  'martinez',
  'moore',
  'jackson',
  'white',
  'harris',
  'martin',
  'thompson',
  'clark',
  'lewis',
  'walker',
  'young',
  'allen',
  'king',
  'wright',
  'lopez',
  'hill',
  'scott',
  'green',
];
const LETTERS = 'abcdefghijklmnopqrstuvwxyz'.split('');
const DIGITS = ['zero', 'oh', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

function times(): string[] {
  const out: string[] = [];
  for (let h = 1; h <= 12; h++) {
    const hour = numberToWords(h);
    for (const m of ['', "o'clock", 'fifteen', 'thirty', 'forty five', 'oh five', 'forty five']) {
      for (const suffix of ['', 'a m', 'p m', 'in the morning', 'in the afternoon']) {
        if (m === "o'clock" && (suffix === 'a m' || suffix === 'p m')) continue;
        out.push([hour, m, suffix].filter(Boolean).join(' '));
      }
    }
  }
  return [...new Set(out), 'noon', 'midday', 'midnight'];
}

const ordinals = Array.from({ length: 31 }, (_, i) => ordinalToWords(i + 1));

export const APPOINTMENT_BOOKING_LANGUAGE: DomainLanguage = {
  slots: {
    weekday: WEEKDAYS,
    month: [...MONTHS],
    ordinal: ordinals,
    part_of_day: ['morning', 'afternoon', 'evening'],
    day: ['today', 'tomorrow', 'the day after tomorrow', 'next week', 'this week', ...WEEKDAYS],
    time: times(),
    first_name: FIRST_NAMES,
    last_name: LAST_NAMES,
    char: [...LETTERS, ...DIGITS],
    digit: DIGITS,
  },
  phrases: [
    // greeting / intent
    'hello',
    'hi',
    'hi there',
    'good morning',
    'good afternoon',
    "hello I'd like to book an appointment",
    "hi I'd like to book an appointment",
    "I'd like to book an appointment",
    'I want to book an appointment',
    'I need to book an appointment',
    'I need to make an appointment',
    'I need to make an appointment please',
    "I'd like to make an appointment please",
    'can I book an appointment',
    'can I make an appointment',
    "I'd like to schedule an appointment",
    "I'd like to book an appointment for {day}",
    "I'd like to book an appointment for next {weekday}",
    'I want to book an appointment for {day}',
    // name
    'my name is {first_name} {last_name}',
    'my name is {first_name}',
    "it's {first_name} {last_name}",
    'this is {first_name} {last_name}',
    "I'm {first_name} {last_name}",
    '{first_name} {last_name}',
    // date
    'next {weekday}',
    'this {weekday}',
    'on {weekday}',
    '{day}',
    '{day} please',
    '{month} {ordinal}',
    '{month} the {ordinal}',
    'on {month} {ordinal}',
    'the {ordinal}',
    'the {ordinal} of {month}',
    '{weekday} the {ordinal}',
    'how about {day}',
    'how about next {weekday}',
    'how about {weekday} the {ordinal}',
    '{day} would be great',
    '{day} {part_of_day}',
    '{day} {part_of_day} would be great',
    'next {weekday} {part_of_day}',
    'is there anything available {day}',
    'is there anything available on {weekday}',
    'is there anything available on {weekday} {part_of_day}',
    'do you have anything {day}',
    'in the {part_of_day}',
    // time
    'at {time}',
    '{time}',
    '{time} works for me',
    '{time} is fine',
    'can I come in at {time}',
    'make it {time}',
    'how about {time}',
    '{day} at {time}',
    'next {weekday} at {time}',
    // confirm / correct
    'yes',
    'yeah',
    'yes please',
    "yes that's correct",
    "yes that's right",
    "that's correct",
    "that's right",
    'correct',
    'sure',
    'okay',
    'no',
    'nope',
    'no thanks',
    "no that's wrong",
    'no make it {weekday}',
    'no make it {day}',
    'no make it {time}',
    'actually make it {time}',
    'actually make it {day}',
    'actually make it {weekday}',
    'actually can we do {day}',
    // change / cancel
    'cancel my appointment',
    'I want to cancel my appointment',
    'I need to cancel my appointment',
    "I'd like to cancel my appointment",
    'can I cancel my appointment',
    'I want to reschedule',
    'I need to reschedule my appointment',
    'can I reschedule my appointment',
    'can I reschedule my appointment to {day}',
    'can I move my appointment to {day}',
    // hand-off
    'I want to speak to a human',
    'I want to talk to a human',
    'can I speak to a human',
    'can I talk to a real person',
    'can I talk to a real person please',
    'let me talk to someone',
    'operator',
    'agent',
    'representative',
    // codes and numbers
    'my confirmation code is {char} {char} {char} {char} {char}',
    'my confirmation code is {char} {char} {char} {char}',
    'the code is {char} {char} {char} {char}',
    'the code is {char} {char} {char} {char} {char}',
    "it's {char} {char} {char} {char} {char}",
    '{char} {char} {char} {char}',
    'my number is {digit} {digit} {digit} {digit} {digit} {digit} {digit}',
    'my number is {digit} {digit} {digit} {digit} {digit} {digit} {digit} {digit} {digit} {digit}',
    'call me at {digit} {digit} {digit} {digit} {digit} {digit} {digit}',
    'call me at {digit} {digit} {digit} {digit} {digit} {digit} {digit} {digit} {digit} {digit}',
    '{digit} {digit} {digit} {digit} {digit} {digit} {digit}',
    // conversation management
    'sorry can you repeat that',
    'can you repeat that',
    'what',
    'sorry',
    'thank you',
    'thanks',
    'thank you goodbye',
    'goodbye',
    'bye',
    "that's all",
    "that's it thank you",
  ],
};
