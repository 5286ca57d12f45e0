import { z } from 'zod';
import {
  addDays,
  CODE_ALPHABET,
  CODE_LENGTH,
  COMMON_FIRST_NAMES,
  COMMON_LAST_NAMES,
  choiceExtractor,
  codeExtractor,
  codeSamples,
  dateExtractor,
  type Extractor,
  extractSpokenTime,
  found,
  isValidIsoDate,
  isValidPhone,
  listOf,
  nameExtractorFor,
  numberToWords,
  offeredChoiceExtractor,
  phoneExtractor,
  ratingExtractor,
  slot,
  speakDate,
  speakPhone,
  speakTime,
  spellCode,
  spokenTimes,
  timeExtractor,
  toE164,
} from '../../src/conversation/index.js';
import type { BusinessHours } from './business-hours.js';
import type { ResolvedOptions } from './options.js';

/** The facts the booking flow collects: validators, extractors, prompts and sample phrases. */

const INTENT_WORDS = {
  cancel: ['cancel', 'cancellation', 'call off', "can't make it", 'cannot make it'],
  reschedule: [
    'reschedule',
    'change',
    'move',
    'rebook',
    'postpone',
    'push back',
    'different time',
    'different day',
  ],
  book: [
    'book',
    'make',
    'schedule',
    'new',
    'set up',
    'appointment',
    'come in',
    'see the',
    'visit',
    'reserve',
  ],
} as const;

type Intent = 'book' | 'reschedule' | 'cancel';
type ChangeField = 'name' | 'appointment_type' | 'date' | 'time' | 'phone';
/** Names end at the flow's own words too ("john smith booking" is John Smith). */
const bookingName = nameExtractorFor(['appointment', 'booked', 'booking']);

const MENU: Record<string, Intent | undefined> = { '1': 'book', '2': 'reschedule', '3': 'cancel' };

/** "tomorrow at three" in answer to "what would you like to do?" means a new booking. */
const impliedBooking: Extractor<'book'> = (u, ctx) => {
  const unprompted = { ...ctx, asked: false };
  const hint = dateExtractor(u, unprompted) || extractSpokenTime(u, false) || bookingName(u, unprompted);
  return ctx.asked && hint ? found('book', 0.6, 'nlp') : null;
};

const article = (word: string) => (/^[aeiou]/i.test(word) ? 'an' : 'a');
const sample = <T>(items: readonly T[], n: number) =>
  items.filter((_, i) => i % Math.ceil(items.length / n) === 0);

export function bookingSlots(o: ResolvedOptions, hours: BusinessHours) {
  const types = Object.keys(o.appointmentTypes) as [string, ...string[]];
  const spokenType = (t: string) => t.replace(/_/g, ' ');
  // Every start time of the week (2000-01-02 was a Sunday), for the recognizer's samples.
  const week = Array.from({ length: 7 }, (_, i) => hours.slots(addDays('2000-01-02', i), new Date(0), 'UTC'));
  const allSlots = [...new Set(week.flat())].sort();

  return {
    intent: slot<Intent>({
      schema: z.enum(['book', 'reschedule', 'cancel']),
      extract: [choiceExtractor(INTENT_WORDS), impliedBooking],
      expects: 'choice',
      options: Object.keys(INTENT_WORDS),
      description: 'what the caller wants to do: book a new appointment, reschedule or cancel one',
      prompt: 'Would you like to book a new appointment, or change or cancel an existing one?',
      reprompt:
        'You can say book, reschedule, or cancel. Or press 1 to book, 2 to reschedule, or 3 to cancel.',
      dtmf: { complete: () => true, parse: (d) => MENU[d] ?? null },
      samples: [
        'i would like to book an appointment',
        'i need to make an appointment',
        'i want to schedule a visit',
        'i need to reschedule my appointment',
        'can i change my appointment',
        'i want to move my appointment',
        'i need to cancel my appointment',
        "i can't make it",
      ],
    }),
    name: slot({
      schema: z
        .string()
        .min(2)
        .max(100)
        .regex(/^\p{L}[\p{L}\p{M}' .-]*$/u),
      extract: bookingName,
      expects: 'name',
      description: "the caller's full name",
      prompt: 'May I have your full name, please?',
      reprompt: 'Please tell me your first and last name.',
      ack: 'Thanks, {name}.',
      samples: [
        'my name is john smith',
        "my name's jane doe",
        'this is john',
        "it's jane",
        ...sample(COMMON_FIRST_NAMES, 40).map(
          (f, i) => `my name is ${f} ${COMMON_LAST_NAMES[i % COMMON_LAST_NAMES.length]}`,
        ),
        ...sample(COMMON_FIRST_NAMES, 20).map((f) => `this is ${f}`),
        ...COMMON_FIRST_NAMES.map((f, i) => `${f} ${COMMON_LAST_NAMES[(i * 7) % COMMON_LAST_NAMES.length]}`),
        ...COMMON_LAST_NAMES.map((l) => `it's ${l}`),
      ],
    }),
    appointment_type: slot({
      label: 'appointment type',
      schema: z.enum(types),
      extract: choiceExtractor(o.appointmentTypes, { unprompted: true }),
      expects: 'choice',
      options: types.map(spokenType),
      description: `the kind of appointment: one of ${types.join(', ')}`,
      prompt: `What kind of appointment do you need? We offer ${listOf(types.map(spokenType), 'or')}.`,
      reprompt: `Please choose ${listOf(
        types.map((t) => `${article(t)} ${spokenType(t)}`),
        'or',
      )}.`,
      speak: spokenType,
      samples: Object.entries(o.appointmentTypes).flatMap(([t, words]) => [
        `${article(t)} ${spokenType(t)}`,
        `i need ${article(t)} ${spokenType(t)}`,
        ...words.map((w) => `${article(w)} ${w} please`),
      ]),
    }),
    date: slot({
      schema: z.string().refine(isValidIsoDate),
      extract: dateExtractor,
      expects: 'date',
      description: 'the appointment day as YYYY-MM-DD in the business time zone',
      prompt: 'What day would you like to come in?',
      reprompt: 'Which day works for you? For example, tomorrow, or next Tuesday.',
      check: (v, c) => hours.checkDate(v, c.now, c.timeZone),
      speak: speakDate,
    }),
    time: slot({
      schema: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/),
      extract: [
        offeredChoiceExtractor<string>('alternatives'),
        timeExtractor((min, c) => hours.plausible(min, c.slots.date as string | undefined)),
      ],
      description: 'the appointment start time as HH:MM, 24-hour, in the business time zone',
      expects: 'time',
      prompt: 'What time would suit you?',
      reprompt: `Please say a time, like ten thirty or two p m. We're open ${hours.describe()}.`,
      check: (v, c) => hours.checkTime(v, c.slots.date as string | undefined, c.now, c.timeZone),
      speak: speakTime,
      samples: allSlots.flatMap((t) => spokenTimes(t).flatMap((s) => [s, `at ${s}`])),
    }),
    phone: slot({
      label: 'phone number',
      schema: z.string().regex(/^\+?\d{4,15}$/),
      extract: phoneExtractor(o.country),
      expects: 'digits',
      digits: { min: 10, max: 11 },
      description: 'a phone number to reach the caller, E.164 (+15551234567)',
      prompt: "What's the best phone number to reach you?",
      reprompt:
        'Please say your phone number one digit at a time, including the area code, or type it on your keypad.',
      check: (v) =>
        isValidPhone(v, o.country) || (v.startsWith('+') && v.length >= 11)
          ? null
          : 'That number seems to be missing some digits. Please say the whole number, including the area code.',
      speak: speakPhone,
      dtmf: {
        complete: (d) => d.length >= 11 || (d.length === 10 && !d.startsWith('1')),
        parse: (d) => toE164(d, o.country) ?? d,
      },
      samples: [
        'my number is five five five one two three four five six seven',
        'two one two five five five zero one nine eight',
        'four one five five five five two six seven one',
        'you can reach me at six one seven five five five oh one two three',
        'use the number i am calling from',
        'this number',
      ],
    }),
    confirmation_code: slot({
      label: 'confirmation code',
      schema: z.string().regex(new RegExp(`^[${CODE_ALPHABET}]{${CODE_LENGTH}}$`)),
      extract: codeExtractor(CODE_LENGTH),
      expects: 'spelling',
      description: `the ${CODE_LENGTH}-character booking confirmation code (letters ${CODE_ALPHABET})`,
      prompt: 'Please tell me your confirmation code, one letter or number at a time.',
      reprompt: `Your confirmation code has ${numberToWords(CODE_LENGTH)} letters and numbers. Please say them one at a time.`,
      invalid: `Sorry, I didn't get a valid code. Codes have ${numberToWords(CODE_LENGTH)} characters.`,
      speak: spellCode,
      samples: codeSamples(CODE_ALPHABET, CODE_LENGTH),
    }),
    change_field: slot<ChangeField>({
      label: 'detail to change',
      schema: z.enum(['name', 'appointment_type', 'date', 'time', 'phone']),
      extract: choiceExtractor({
        date: ['day', 'date'],
        time: ['time', 'hour'],
        phone: ['phone', 'number'],
        name: ['name', 'spelling'],
        appointment_type: ['type', 'kind', 'reason', 'service'],
      }),
      description: 'which detail of the booking the caller wants to change',
      expects: 'choice',
      options: ['day', 'time', 'name', 'type', 'phone number'],
      prompt:
        'What would you like to change: the day, the time, the name, the appointment type, or the phone number?',
      samples: ['the day', 'the time', 'the date', 'my name', 'the phone number', 'the appointment type'],
    }),
    rating: slot({
      schema: z.number().int().min(1).max(5),
      extract: ratingExtractor(),
      expects: 'choice',
      options: ['one', 'two', 'three', 'four', 'five'],
      description: "the caller's rating of this call from 1 (poor) to 5 (excellent)",
      prompt:
        'Before you go: on a scale of one to five, where five is excellent, how would you rate this call?',
      reprompt: 'Please say a number from one to five, or press it on your keypad. Or say no thanks.',
      invalid: 'Please pick a number from one to five.',
      dtmf: { complete: () => true, parse: (d) => (/^\d$/.test(d) ? Number(d) : null) },
      samples: [
        'one',
        'two',
        'three',
        'four',
        'five',
        'i would give it a five',
        'four out of five',
        'no thanks',
      ],
    }),
  };
}

export const readBackDate = (date: string, time: string) => `${speakDate(date)} at ${speakTime(time)}`;
export { article };
