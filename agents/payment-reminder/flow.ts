import { z } from 'zod';
import {
  addDays,
  choiceExtractor,
  dateExtractor,
  defineFlow,
  type Flow,
  type FlowRecord,
  found,
  slot,
  speakDate,
} from '../../src/conversation/index.js';
import { renderScript, speakAmount } from './script.js';
import type { ReminderSettings } from './settings.js';
import { normalizePostcode, type ReminderAccount, type ReminderStore } from './store/store.js';

/** What the call's outcome is, for the task, the contact attempt and the campaign's results. */
export type ReminderOutcome =
  | 'promised'
  | 'pay_now'
  | 'disputed'
  | 'opted_out'
  | 'wrong_party'
  | 'not_verified'
  | 'human_requested'
  | 'account_not_found';

interface ReminderData {
  account: ReminderAccount | null;
  verifyAttempts: number;
  verified: boolean;
}

const MAX_VERIFY_ATTEMPTS = 2;

const STOP_CALLING = {
  patterns: [
    /\bstop (calling|ringing|phoning)\b/,
    /\b(do not|don't|dont|never) (call|ring|phone|contact) (me|us|this number)\b/,
    /\btake (me|my number|this number) off\b/,
    /\bremove (me|my number|this number)\b/,
  ],
  phrases: ['stop calling me', "don't call me again", 'take me off your list', 'remove my number'],
  description: 'no more calls about this',
};

/**
 * The payment reminder (seed 004): confirm the person (their name, then their postcode or date
 * of birth) before any amount is spoken; read the reminder (the campaign's phone script, or
 * the flow's own words) with the amount and due date; then pay now (handed to the payment
 * line), promise to pay by a date (not in the past, within the limit), or dispute (handed to a
 * person). "Stop calling me", at any point, is an opt-out recorded at once and confirmed.
 */
export function createPaymentReminderFlow(
  settings: ReminderSettings,
  deps: { store: ReminderStore; organizationId: string },
): Flow {
  const account = (c: { data: ReminderData }) => c.data.account!;
  const ids = {
    customer_id: settings.customerId,
    payment_record_id: settings.paymentRecordId,
    ...(settings.taskId ? { task_id: settings.taskId } : {}),
    ...(settings.campaignId ? { campaign_id: settings.campaignId } : {}),
  };
  // Only a call about a known customer and invoice records anything.
  const outcome = (
    result: ReminderOutcome,
    c: { data: ReminderData },
    extra: Record<string, unknown> = {},
  ) =>
    settings.customerId && settings.paymentRecordId
      ? ([
          {
            type: 'reminder_outcome',
            data: { ...ids, outcome: result, verified: c.data.verified, ...extra },
          },
        ] as FlowRecord[])
      : [];
  const verifySlot = settings.verifyWith === 'postcode' ? 'postcode' : 'birth_date';
  return defineFlow({
    name: 'payment-reminder',
    description: `Reminds ${settings.businessName}'s customers of an invoice and takes their answer.`,
    timeZone: settings.timeZone,
    data: (): ReminderData => ({ account: null, verifyAttempts: 0, verified: false }),
    slots: {
      postcode: slot<string>({
        schema: z.string().min(3).max(10),
        // "two one zero four five", "SW1A 1AA": letters and digits, spoken or typed.
        extract: (u, ctx) => {
          if (!ctx.asked) return null;
          const spoken = u.numeric.replace(/\b(my|postcode|post code|zip|zip code|is|it's|its|the)\b/g, ' ');
          const code = normalizePostcode(spoken);
          return code.length >= 3 && code.length <= 10 ? found(code, 0.8, 'regex') : null;
        },
        expects: 'digits',
        digits: { min: 4, max: 10 },
        description: "the customer's postcode",
        prompt: 'To confirm it is you, what is your postcode?',
      }),
      birth_date: slot<string>({
        schema: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
        extract: dateExtractor,
        expects: 'date',
        description: "the customer's date of birth",
        prompt: 'To confirm it is you, what is your date of birth?',
        speak: speakDate,
      }),
      choice: slot<'pay_now' | 'promise' | 'dispute'>({
        schema: z.enum(['pay_now', 'promise', 'dispute']),
        extract: choiceExtractor({
          dispute: [
            'dispute',
            'not mine',
            'wrong amount',
            "don't owe",
            'do not owe',
            'already paid',
            'disagree',
          ],
          pay_now: ['pay now', 'pay it now', 'pay today', 'right now', 'card'],
          promise: ['promise', 'a date', 'next week', 'next month', 'later', 'by', 'on friday', 'pay on'],
        }),
        expects: 'choice',
        options: ['pay now', 'a date', 'dispute'],
        description: 'pay now, promise a date, or dispute the invoice',
        prompt: 'Would you like to pay now, give me a date when you will pay, or dispute this invoice?',
      }),
      promise_date: slot<string>({
        schema: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
        extract: dateExtractor,
        expects: 'date',
        description: 'the day the customer promises to pay by',
        prompt: 'By which date will you pay?',
        check: (day, c) => {
          if (day < c.today) return 'That date has already passed.';
          const limit = addDays(c.today, settings.promiseMaxDays);
          return day > limit ? `I can only note a date up to ${speakDate(limit)}.` : null;
        },
        speak: speakDate,
      }),
    },
    accepts: [],
    customIntents: { stop_calling: STOP_CALLING },
    intents: { stop_calling: 'opted_out', human: 'human_requested', cancel: 'ended_early' },
    fallback: 'failed',
    noInput: 'silent',
    initial: 'start',
    states: {
      start: {
        run: async (c) => {
          const found =
            settings.customerId && settings.paymentRecordId
              ? await deps.store.loadAccount({
                  organizationId: deps.organizationId,
                  customerId: settings.customerId,
                  paymentRecordId: settings.paymentRecordId,
                  ...(settings.templateName ? { templateName: settings.templateName } : {}),
                })
              : null;
          if (!found || found.status === 'paid' || found.status === 'cancelled') {
            return { goto: 'unavailable', records: outcome('account_not_found', c) };
          }
          c.data.account = found;
          return { goto: 'confirm_person' };
        },
      },
      confirm_person: {
        // Nothing about the invoice before the person is confirmed: only the name being asked for.
        prompt: (c) =>
          `Hello, this is ${settings.businessName}. I am calling for ${account(c).fullName}. Am I speaking with ${account(c).firstName}?`,
        confirm: {
          yes: verifySlot === 'postcode' ? 'verify_postcode' : 'verify_birth_date',
          no: 'wrong_person',
        },
      },
      verify_postcode: { collect: ['postcode'], next: 'check_identity' },
      verify_birth_date: { collect: ['birth_date'], next: 'check_identity' },
      check_identity: {
        run: (c) => {
          const given = verifySlot === 'postcode' ? c.slots.postcode : c.slots.birth_date;
          const onFile = verifySlot === 'postcode' ? account(c).postcode : account(c).dateOfBirth;
          if (onFile && given === onFile) {
            c.data.verified = true;
            return { goto: 'statement' };
          }
          c.data.verifyAttempts += 1;
          if (c.data.verifyAttempts >= MAX_VERIFY_ATTEMPTS || !onFile) {
            return { goto: 'not_verified', records: outcome('not_verified', c) };
          }
          return {
            goto: verifySlot === 'postcode' ? 'verify_postcode' : 'verify_birth_date',
            clear: [verifySlot],
            say: 'That does not match our records.',
          };
        },
      },
      statement: {
        say: (c) => renderScript(account(c), settings),
        collect: ['choice'],
        next: (c) =>
          c.slots.choice === 'pay_now' ? 'pay_now' : c.slots.choice === 'dispute' ? 'dispute' : 'promise',
      },
      promise: { collect: ['promise_date'], next: 'confirm_promise' },
      confirm_promise: {
        prompt: (c) =>
          `So you will pay ${speakAmount(account(c).amount, account(c).currency)} by ${c.speak('promise_date')}. Is that right?`,
        confirm: { yes: 'record_promise', no: 'promise_again' },
      },
      promise_again: { run: () => ({ goto: 'promise', clear: ['promise_date'] }) },
      record_promise: {
        run: (c) => ({
          goto: 'promised_goodbye',
          records: outcome('promised', c, { promise_date: c.slots.promise_date }),
        }),
      },
      pay_now: { run: (c) => ({ goto: 'payment_line', records: outcome('pay_now', c) }) },
      dispute: { run: (c) => ({ goto: 'dispute_line', records: outcome('disputed', c) }) },
      human_requested: { run: (c) => ({ goto: 'agent_line', records: outcome('human_requested', c) }) },
      wrong_person: { run: (c) => ({ goto: 'wrong_person_goodbye', records: outcome('wrong_party', c) }) },
      opted_out: {
        run: (c) => ({
          goto: 'opted_out_goodbye',
          records: [
            ...outcome('opted_out', c),
            ...(settings.customerId
              ? [
                  {
                    type: 'opt_out',
                    data: { customer_id: settings.customerId, channel: 'phone', reason: 'asked on a call' },
                  },
                ]
              : []),
          ],
        }),
      },
      promised_goodbye: {
        prompt: (c) => `Thank you. I have noted that you will pay by ${c.speak('promise_date')}. Goodbye.`,
        terminal: { action: 'end_call', reason: 'promised' },
      },
      payment_line: {
        prompt: 'I will put you through to our payment line now.',
        terminal: { action: 'handoff', reason: 'pay_now' },
      },
      dispute_line: {
        prompt: 'I will put you through to a colleague who can look into it.',
        terminal: { action: 'handoff', reason: 'dispute' },
      },
      agent_line: {
        prompt: 'I will put you through to a colleague.',
        terminal: { action: 'handoff', reason: 'caller_request' },
      },
      wrong_person_goodbye: {
        prompt: 'Sorry for the trouble. Goodbye.',
        terminal: { action: 'end_call', reason: 'wrong_party' },
      },
      not_verified: {
        prompt: 'I am sorry, I could not confirm your details, so I cannot go on. Goodbye.',
        terminal: { action: 'end_call', reason: 'not_verified' },
      },
      opted_out_goodbye: {
        prompt: 'I have noted that. We will not call you again about this. Goodbye.',
        terminal: { action: 'end_call', reason: 'opted_out' },
      },
      unavailable: {
        prompt: 'Sorry to have bothered you. Goodbye.',
        terminal: { action: 'end_call', reason: 'account_not_found' },
      },
      ended_early: {
        prompt: 'All right. Goodbye.',
        terminal: { action: 'end_call', reason: 'caller_ended' },
      },
      silent: {
        prompt: 'I will try again another time. Goodbye.',
        terminal: { action: 'end_call', reason: 'no_input' },
      },
      failed: {
        prompt: 'Sorry, I could not help this time. Goodbye.',
        terminal: { action: 'end_call', reason: 'fallback' },
      },
    },
  });
}
