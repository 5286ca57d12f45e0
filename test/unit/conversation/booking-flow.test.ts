import { describe, expect, it } from 'vitest';
import { FakeBookingStore } from '../../../agents/appointment-booking/index.js';
import { appointmentData, feedbackData } from '../../../agents/appointment-booking/records.js';
import { appointmentsOf, feedbackOf } from '../../helpers/flows.js';
import { bookingCall, NOW } from './helpers.js';

// NOW: Wednesday 5 March 2025, 10:00 in New York. Open Mon-Fri 9-5, Sat 9-1, 30-minute slots.

const HAPPY = [
  'hi i would like to book an appointment',
  'my name is john smith',
  'a check up please',
  'next tuesday',
  'three thirty p m',
  'four one five five five five two six seven one',
  'yes that is right',
];

describe('appointment booking: text-level flows', () => {
  it('happy path: books, reads the code back letter by letter, takes a rating, says goodbye', async () => {
    const h = await bookingCall();
    expect(h.replies[0]!.text).toMatch(/^Thank you for calling Riverside Clinic\./);
    const booked = await h.say(...HAPPY);
    expect(booked.state).toBe('rate');
    const code = h.store.bookings[0]!.confirmationCode;
    expect(code).toMatch(/^[AFHJKQRUWXY234679]{6}$/);
    expect(booked.text).toContain(`Your confirmation code is ${[...code].join(', ')}.`);
    expect(booked.text).toContain('on a scale of one to five');
    const end = await h.say('i would give it a five');
    expect(end).toMatchObject({
      state: 'goodbye',
      terminal: true,
      actions: [{ type: 'end_call', reason: 'completed' }],
    });

    expect(h.store.bookings).toEqual([
      expect.objectContaining({
        userName: 'John Smith',
        date: '2025-03-11',
        time: '15:30',
        type: 'checkup',
        contact: '+14155552671',
        status: 'confirmed',
        conversationId: '11111111-1111-4111-8111-111111111111',
      }),
    ]);
    expect(appointmentsOf(h.rec)).toEqual([
      expect.objectContaining({
        action: 'booked',
        appointment_date: '2025-03-11',
        appointment_time: '15:30',
        confirmation_code: code,
      }),
    ]);
    expect(feedbackOf(h.rec)).toEqual([{ rating: 5, feedback_type: 'positive' }]);
    expect(h.rec.transitions.map((t) => `${t.from_state}>${t.to_state}:${t.trigger_type}`)).toEqual([
      'null>greeting:system',
      'greeting>collect_name:user_input',
      'collect_name>collect_type:user_input',
      'collect_type>collect_date:user_input',
      'collect_date>collect_time:user_input',
      'collect_time>collect_phone:user_input',
      'collect_phone>check_availability:user_input',
      'check_availability>confirm_booking:system',
      'confirm_booking>book:user_input',
      'book>rate:system',
      'rate>save_rating:user_input',
      'save_rating>goodbye:system',
    ]);
    expect(h.rec.slots.map((s) => `${s.slot_name}=${s.slot_value}/${s.method}/${s.validated}`)).toEqual([
      'intent=book/regex/true',
      'name=John Smith/regex/true',
      'appointment_type=checkup/regex/true',
      'date=2025-03-11/nlp/true',
      'time=15:30/regex/true',
      'phone=+14155552671/regex/true',
      'rating=5/regex/true',
    ]);
    for (const s of h.rec.slots) expect(s.confidence).toBeGreaterThan(0.5);
  });

  it('correction at the read-back: "no, make it wednesday" changes the date and re-checks', async () => {
    const h = await bookingCall();
    await h.say(...HAPPY.slice(0, -1));
    const r = await h.say('no, make it wednesday');
    expect(r.state).toBe('confirm_booking');
    expect(r.text).toMatch(
      /^Okay, I've changed that\. Let me read that back: .* on Wednesday, March 12th at 3:30 PM/,
    );
    expect(h.rec.transitions.at(-2)).toMatchObject({
      from_state: 'confirm_booking',
      to_state: 'check_availability',
      trigger_data: { correction: ['date'] },
    });
    await h.say('yes');
    expect(h.store.bookings[0]).toMatchObject({ date: '2025-03-12', time: '15:30' });
  });

  it('corrections while collecting, and a no at the read-back asks what to change', async () => {
    const h = await bookingCall();
    await h.say('book', 'jane doe', 'cleaning', 'friday at ten');
    const fixed = await h.say('actually make it eleven');
    expect(fixed.text).toBe("Okay, I've changed that. What's the best phone number to reach you?");
    await h.say('two one two five five five zero one nine eight');
    expect((await h.say('no')).state).toBe('ask_change');
    expect((await h.say('the day')).text).toBe('What day would you like to come in?');
    const r = await h.say('monday');
    expect(r.text).toMatch(/on Monday, March 10th at 11 AM/);
    await h.say('yes');
    expect(h.store.bookings[0]).toMatchObject({ date: '2025-03-10', time: '11:00', userName: 'Jane Doe' });
  });

  it('out-of-order slots: date and time before the name, type with the name', async () => {
    const h = await bookingCall();
    const r1 = await h.say("hi, i'd like to come in tomorrow at ten thirty in the morning");
    expect(r1.state).toBe('collect_name');
    expect(h.engine.slots).toMatchObject({ intent: 'book', date: '2025-03-06', time: '10:30' });
    const r2 = await h.say('my name is maria garcia and i need a cleaning');
    expect(r2.text).toBe("Thanks, Maria Garcia. What's the best phone number to reach you?");
    expect(h.rec.transitions.at(-1)).toMatchObject({ from_state: 'collect_name', to_state: 'collect_phone' });
    await h.say('four one five five five five two six seven one', 'yes');
    expect(h.store.bookings[0]).toMatchObject({
      userName: 'Maria Garcia',
      date: '2025-03-06',
      time: '10:30',
      type: 'cleaning',
    });
  });

  it('reschedules an existing booking by confirmation code', async () => {
    const store = new FakeBookingStore();
    store.seed({
      date: '2025-03-07',
      time: '14:00',
      confirmationCode: 'HJK234',
      userName: 'Bob Lee',
      type: 'checkup',
    });
    const h = await bookingCall({ store });
    await h.say('i need to reschedule my appointment');
    expect((await h.say('h j k two three four')).text).toBe(
      "You're booked for Friday, March 7th at 2 PM. What day would you like to move it to?",
    );
    await h.say('monday');
    const confirm = await h.say('nine thirty a m');
    expect(confirm.text).toBe(
      "Just to confirm: you'd like to move your appointment to Monday, March 10th at 9:30 AM. Is that right?",
    );
    const done = await h.say('yes');
    expect(done.text).toMatch(/^Done\. Your appointment is now on Monday, March 10th at 9:30 AM\./);
    expect(store.bookings).toHaveLength(1);
    expect(store.bookings[0]).toMatchObject({
      confirmationCode: 'HJK234',
      date: '2025-03-10',
      time: '09:30',
      status: 'confirmed',
    });
    expect(appointmentsOf(h.rec)[0]).toMatchObject({
      action: 'rescheduled',
      confirmation_code: 'HJK234',
      metadata: { previous: { date: '2025-03-07', time: '14:00' } },
    });
    expect((await h.say('no thanks')).state).toBe('goodbye');
    expect(feedbackOf(h.rec)).toEqual([]);
  });

  it('cancels an existing booking', async () => {
    const store = new FakeBookingStore();
    store.seed({ date: '2025-03-07', time: '14:00', confirmationCode: 'AF3KQ9', type: 'cleaning' });
    const h = await bookingCall({ store });
    await h.say('i have to cancel my appointment');
    const q = await h.say('alpha foxtrot three kilo quebec nine');
    expect(q.text).toBe('I found your cleaning on Friday, March 7th at 2 PM. Do you want to cancel it?');
    const r = await h.say('yes please cancel it');
    expect(r.text).toMatch(/^Your appointment on Friday, March 7th at 2 PM is cancelled\./);
    expect(store.bookings[0]!.status).toBe('cancelled');
    expect(appointmentsOf(h.rec)[0]).toMatchObject({ action: 'cancelled', status: 'cancelled' });
  });

  it('an unknown code is asked again, then handed to a human', async () => {
    const h = await bookingCall();
    await h.say('reschedule');
    const again = await h.say('a a a a a a');
    expect(again.text).toMatch(/^I couldn't find a booking with the code A, A, A, A, A, A\. Please tell me/);
    const r = await h.say('w w w w w w');
    expect(r).toMatchObject({ state: 'handoff', actions: [{ type: 'handoff' }] });
  });

  it.each([
    [[], 'operator'],
    [['book', 'john smith'], 'can i talk to a real person'],
    [HAPPY.slice(0, -1), 'i want to speak to a human'],
  ])('hands off to a human from anywhere (%#)', async (before, ask) => {
    const h = await bookingCall();
    await h.say(...before);
    const r = await h.say(ask);
    expect(r).toMatchObject({
      state: 'handoff',
      terminal: true,
      actions: [{ type: 'handoff', reason: 'caller_request' }],
    });
    expect(r.text).toBe('Let me connect you with a member of our team. Please hold.');
    expect(h.rec.transitions.at(-1)).toMatchObject({ trigger_type: 'handoff' });
    expect(h.store.bookings).toHaveLength(0);
  });

  it('silence: re-prompts twice, then ends the call politely', async () => {
    const h = await bookingCall();
    await h.say('book');
    expect((await h.say({ timeout: true })).text).toBe(
      'Are you still there? May I have your full name, please?',
    );
    await h.say({ timeout: true });
    const r = await h.say({ timeout: true });
    expect(r).toMatchObject({ state: 'no_input', actions: [{ type: 'end_call', reason: 'no_input' }] });
    expect(r.text).toMatch(/^I haven't heard anything/);
  });

  it('silence when asked for a rating just says goodbye', async () => {
    const h = await bookingCall();
    await h.say(...HAPPY);
    expect((await h.say({ timeout: true })).state).toBe('goodbye');
  });

  it('repeated failures go to the fallback state (or to a human when configured)', async () => {
    const h = await bookingCall();
    await h.say('book', 'john smith');
    await h.say('blue', 'green');
    const r = await h.say('what is love');
    expect(r).toMatchObject({ state: 'fallback', actions: [{ type: 'end_call', reason: 'fallback' }] });
    expect(h.rec.transitions.at(-1)).toMatchObject({ trigger_data: { reason: 'max_retries', retries: 3 } });

    const t = await bookingCall({ transferOnFallback: true });
    const r2 = await t.say('zzz', 'zzz', 'zzz');
    expect(r2).toMatchObject({ state: 'fallback', actions: [{ type: 'handoff', reason: 'fallback' }] });
  });

  it.each([
    ['sunday', "Sorry, we're closed on Sundays."],
    ['yesterday', 'That date has already passed.'],
    ['december first', 'We only take bookings up to 90 days ahead.'],
  ])('refuses %s with a reason and asks again', async (day, reason) => {
    const h = await bookingCall();
    await h.say('book', 'john smith', 'checkup');
    const r = await h.say(day);
    expect(r.state).toBe('collect_date');
    expect(r.text).toBe(`${reason} What day would you like to come in?`);
    expect(h.rec.slots.at(-1)).toMatchObject({ slot_name: 'date', validated: false, reason });
  });

  it.each([
    ['at seven p m', "Sorry, we're open from 9 AM to 5 PM on Wednesdays."],
    ['four forty five', 'The last appointment of the day starts at 4:30 PM.'],
    ['three ten', 'Appointments start every 30 minutes, for example at 9 AM or 9:30 AM.'],
    ['nine thirty a m', 'That time has already passed today.'],
  ])('refuses the time %s today with a reason', async (time, reason) => {
    const h = await bookingCall();
    await h.say('book', 'john smith', 'checkup', 'today');
    const r = await h.say(time);
    expect(r.text).toBe(`${reason} What time would suit you?`);
  });

  it('a new day that closes earlier invalidates the time: asks for another time', async () => {
    const h = await bookingCall();
    await h.say('book', 'john smith', 'checkup', 'friday at three', '4155552671');
    const r = await h.say('no, make it saturday');
    expect(r.state).toBe('collect_time');
    expect(r.text).toContain("Sorry, we're open from 9 AM to 1 PM on Saturdays.");
    await h.say('eleven', 'yes');
    expect(h.store.bookings[0]).toMatchObject({ date: '2025-03-08', time: '11:00' });
  });

  it('a taken slot offers the nearest free times; "the first one" picks one', async () => {
    const store = new FakeBookingStore();
    store.seed({ date: '2025-03-07', time: '14:00', confirmationCode: 'XXXXXX' });
    const h = await bookingCall({ store });
    await h.say('book', 'ada lovelace', 'consultation', 'friday at two');
    const r = await h.say('4155552671');
    expect(r.state).toBe('collect_time');
    expect(r.text).toBe(
      'Sorry, 2 PM is already taken. The closest times I have on Friday, March 7th are 1:30 PM or 2:30 PM. What time would suit you?',
    );
    const c = await h.say('the first one');
    expect(c.text).toMatch(/on Friday, March 7th at 1:30 PM/);
    await h.say('yes');
    expect(store.bookings.filter((b) => b.date === '2025-03-07').map((b) => b.time)).toEqual([
      '14:00',
      '13:30',
    ]);
  });

  it('a slot taken by another caller between read-back and yes: no double booking', async () => {
    const h = await bookingCall();
    await h.say(...HAPPY.slice(0, -1));
    h.store.seed({ date: '2025-03-11', time: '15:30', confirmationCode: 'RIVAL2' });
    const r = await h.say('yes');
    expect(r.state).toBe('collect_time');
    expect(r.text).toMatch(
      /^Sorry, that time was just taken by another caller\. The closest times I have on Tuesday, March 11th are 3 PM or 4 PM\./,
    );
    await h.say('four pm', 'yes');
    expect(h.store.bookings.map((b) => `${b.date} ${b.time}`)).toEqual([
      '2025-03-11 15:30',
      '2025-03-11 16:00',
    ]);
  });

  it('a fully booked day points to the next open day', async () => {
    const store = new FakeBookingStore();
    const saturday = ['09:00', '09:30', '10:00', '10:30', '11:00', '11:30', '12:00', '12:30'];
    for (const [i, time] of saturday.entries())
      store.seed({ date: '2025-03-08', time, confirmationCode: `FULL${i}X` });
    const h = await bookingCall({ store });
    await h.say('book', 'john smith', 'checkup', 'saturday at ten');
    const r = await h.say('4155552671');
    expect(r.state).toBe('collect_date');
    expect(r.text).toContain(
      "We're fully booked on Saturday, March 8th. The next day we're open is Monday, March 10th.",
    );
  });

  it('a failing store ends the call with an apology, recorded as an error transition', async () => {
    const h = await bookingCall();
    await h.say(...HAPPY.slice(0, -1));
    h.store.failNext = new Error('connection refused');
    const r = await h.say('yes');
    expect(r).toMatchObject({
      state: 'system_error',
      actions: [{ type: 'end_call', reason: 'system_error' }],
    });
    expect(h.rec.transitions.at(-1)).toMatchObject({
      trigger_type: 'error',
      trigger_data: { error: 'connection refused' },
    });
  });

  it('"cancel" at the greeting means cancelling a booking; "bye" there ends the call', async () => {
    expect((await (await bookingCall()).say('cancel')).state).toBe('collect_code');
    expect((await (await bookingCall()).say('i want to cancel it')).state).toBe('collect_code');
    expect((await (await bookingCall()).say('oh never mind bye')).state).toBe('abandoned');
  });

  it('"never mind" mid-booking stops without booking', async () => {
    const h = await bookingCall();
    const r = await h.say('book', 'john smith', 'never mind');
    expect(r).toMatchObject({
      state: 'abandoned',
      actions: [{ type: 'end_call', reason: 'caller_cancelled' }],
    });
    expect(h.store.bookings).toHaveLength(0);
  });

  it('runs on the keypad too', async () => {
    const h = await bookingCall();
    await h.say({ dtmf: '1' }, 'sam jones', 'cleaning', 'tomorrow at nine a m');
    expect((await h.say({ dtmf: '41555' })).text).toBe('');
    expect((await h.say({ dtmf: '52671' })).state).toBe('confirm_booking');
    await h.say({ dtmf: '1' });
    const r = await h.say({ dtmf: '4' });
    expect(r.state).toBe('goodbye');
    expect(feedbackOf(h.rec)).toEqual([{ rating: 4, feedback_type: 'positive' }]);
    expect(h.rec.slots.filter((s) => s.method === 'dtmf').map((s) => s.slot_name)).toEqual([
      'intent',
      'phone',
      'rating',
    ]);
  });

  it('a second engine on the same store sees the first booking (engines share nothing else)', async () => {
    const store = new FakeBookingStore();
    const a = await bookingCall({ store });
    const b = await bookingCall({ store, now: NOW });
    await a.say(...HAPPY);
    const r = await b.say(...HAPPY.slice(0, -1));
    expect(r.text).toMatch(/^Sorry, 3:30 PM is already taken\./);
  });
});

describe('appointment-booking records', () => {
  it("validates an appointment's date and time as the persister will", () => {
    const ok = {
      appointment_date: '2030-02-28',
      appointment_time: '09:30',
      status: 'confirmed',
      confirmation_code: 'ABC123',
    };
    expect(appointmentData.safeParse(ok).success).toBe(true);
    const time = appointmentData.safeParse({ ...ok, appointment_time: '9:30' });
    expect(time.error?.issues[0]).toMatchObject({
      path: ['appointment_time'],
      message: 'must be HH:MM (24-hour)',
    });
    expect(appointmentData.safeParse({ ...ok, appointment_date: '2030-02-30' }).success).toBe(false);
    expect(feedbackData.safeParse({ rating: 6 }).success).toBe(false);
  });
});
