import { defineFlow, type Flow } from '../../src/conversation/index.js';
import { BusinessHours } from './business-hours.js';
import { type BookingData, type Ctx, createDesk } from './desk.js';
import { type AppointmentBookingOptions, resolveOptions } from './options.js';
import { article, bookingSlots, readBackDate } from './slots.js';

/**
 * Appointment booking by phone — this file is the specification of the conversation.
 *
 *   greeting ─book──▶ name ▶ type ▶ date ▶ time ▶ phone ▶ check_availability ▶ confirm_booking ─yes▶ book ▶ rate ▶ goodbye
 *      │                 (slots already given are skipped)      │ taken: offer times    │ no: ask_change / correction
 *      └─reschedule/cancel──▶ collect_code ▶ lookup ─▶ date… (reschedule) | confirm_cancel ▶ cancel_booking ▶ rate
 *
 * Anywhere: "a human" → handoff; "never mind" → abandoned; silence → re-prompt, then no_input;
 * repeated failures → fallback; a failing store → system_error.
 */
export function createAppointmentBookingFlow(options: AppointmentBookingOptions): Flow {
  const o = resolveOptions(options);
  const hours = new BusinessHours(o.hours);
  const desk = createDesk(o, hours);
  const end = (reason: string) => ({ action: 'end_call', reason }) as const;

  return defineFlow({
    name: 'appointment-booking',
    description: `Books, reschedules and cancels appointments at ${o.businessName}.`,
    timeZone: o.timeZone,
    slots: bookingSlots(o, hours),
    data: (): BookingData => ({ alternatives: [], existing: null, lookupFailures: 0 }),
    accepts: ['name', 'appointment_type', 'date', 'time', 'phone'],
    intents: { human: 'handoff', cancel: 'abandoned' },
    dtmfIntents: { '0': 'human' },
    fallback: 'fallback',
    noInput: 'no_input',
    onError: 'system_error',
    initial: 'greeting',
    states: {
      greeting: {
        say: `Thank you for calling ${o.businessName}.`,
        prompt:
          'I can book a new appointment, or change or cancel one you already have. What would you like to do?',
        collect: ['intent'],
        next: (c) => (c.slots.intent === 'book' ? 'collect_name' : 'collect_code'),
      },
      collect_name: { collect: ['name'], next: 'collect_type' },
      collect_type: { collect: ['appointment_type'], next: 'collect_date' },
      collect_date: {
        prompt: (c) =>
          c.data.existing
            ? `You're booked for ${readBackDate(c.data.existing.date, c.data.existing.time)}. What day would you like to move it to?`
            : 'What day would you like to come in?',
        collect: ['date'],
        next: 'collect_time',
      },
      collect_time: {
        collect: ['time'],
        next: (c) => (c.data.existing ? 'check_availability' : 'collect_phone'),
      },
      collect_phone: { collect: ['phone'], next: 'check_availability' },
      check_availability: {
        run: async (c) => {
          const a = await desk.availability(c);
          if (a.ok) return { goto: 'confirm_booking' };
          return { ...a, goto: a.retry === 'date' ? 'collect_date' : 'collect_time' };
        },
      },
      confirm_booking: {
        prompt: (c) => readBack(c),
        confirm: { yes: 'book', no: 'ask_change' },
        onChange: 'check_availability',
      },
      ask_change: { collect: ['change_field'], next: 'reopen_field', onChange: 'check_availability' },
      reopen_field: {
        run: (c) => {
          const field = c.slots.change_field ?? 'date';
          const state = (
            {
              name: 'collect_name',
              appointment_type: 'collect_type',
              date: 'collect_date',
              time: 'collect_time',
              phone: 'collect_phone',
            } as const
          )[field];
          return { clear: [field, 'change_field'], goto: state };
        },
      },
      book: {
        run: async (c) => {
          const r = await desk.book(c);
          if (r.ok) return { ...r, goto: 'rate' };
          return { ...r, goto: r.retry === 'date' ? 'collect_date' : 'collect_time' };
        },
      },
      collect_code: {
        collect: ['confirmation_code'],
        accepts: [],
        intents: { cancel: null },
        next: 'lookup',
      },
      lookup: {
        run: async (c) => {
          const r = await desk.lookup(c);
          if (r.ok) return { ...r, goto: c.slots.intent === 'cancel' ? 'confirm_cancel' : 'collect_date' };
          if (r.giveUp) return { say: r.say, goto: 'handoff' };
          return { say: r.say, clear: ['confirmation_code'], goto: 'collect_code' };
        },
      },
      confirm_cancel: {
        prompt: (c) =>
          `I found your ${c.speak('appointment_type') || 'appointment'} on ${readBackDate(c.data.existing?.date ?? '', c.data.existing?.time ?? '')}. Do you want to cancel it?`,
        confirm: { yes: 'cancel_booking', no: 'keep_booking' },
        accepts: [],
        intents: { cancel: null },
      },
      cancel_booking: {
        run: async (c) => {
          const r = await desk.cancel(c);
          return { ...r, goto: r.ok ? 'rate' : 'goodbye' };
        },
      },
      rate: {
        collect: ['rating'],
        optional: true,
        accepts: [],
        next: 'save_rating',
        onTimeout: 'goodbye',
        intents: { cancel: 'goodbye' },
      },
      save_rating: {
        run: (c) => {
          return { ...desk.feedback(c.slots.rating), goto: 'goodbye' };
        },
      },
      goodbye: { prompt: `Thank you for calling ${o.businessName}. Goodbye!`, terminal: end('completed') },
      keep_booking: {
        prompt: "Okay, I've left your appointment as it is. Goodbye!",
        terminal: end('completed'),
      },
      handoff: {
        prompt: 'Let me connect you with a member of our team. Please hold.',
        terminal: { action: 'handoff', reason: 'caller_request' },
      },
      abandoned: {
        prompt: "Okay, I've stopped there and haven't changed anything. Thanks for calling, goodbye.",
        terminal: end('caller_cancelled'),
      },
      no_input: {
        prompt: "I haven't heard anything, so I'll end the call now. Please call back any time. Goodbye.",
        terminal: end('no_input'),
      },
      fallback: {
        prompt: o.transferOnFallback
          ? "I'm sorry, I'm having trouble understanding. Let me put you through to a member of our team."
          : "I'm sorry, I'm having trouble understanding. Please call back later, or ask for the front desk. Goodbye.",
        terminal: o.transferOnFallback ? { action: 'handoff', reason: 'fallback' } : end('fallback'),
      },
      system_error: {
        prompt:
          "I'm sorry, our booking system isn't responding right now. Please call back a little later. Goodbye.",
        terminal: end('system_error'),
      },
    },
  });
}

function readBack(c: Ctx): string {
  const when = readBackDate(c.slots.date ?? '', c.slots.time ?? '');
  if (c.data.existing)
    return `Just to confirm: you'd like to move your appointment to ${when}. Is that right?`;
  const type = c.speak('appointment_type');
  const phone = c.slots.phone ? `, and we can reach you at ${c.speak('phone')}` : '';
  return `Let me read that back: ${article(type)} ${type} appointment for ${c.speak('name')} on ${when}${phone}. Is that correct?`;
}
