import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCallScript, runScriptAsText } from '../../../agents/call-scripts.js';
import { renderScript, speakAmount } from '../../../agents/payment-reminder/script.js';
import type { ReminderAccount } from '../../../agents/payment-reminder/store/store.js';

const calls = join(import.meta.dirname, '../../../agents/payment-reminder/calls');

const account: ReminderAccount = {
  customerId: 'c',
  paymentRecordId: 'p',
  firstName: 'Dana',
  fullName: 'Dana Reyes',
  postcode: '21045',
  dateOfBirth: null,
  amount: 245.5,
  currency: 'USD',
  dueDate: '2026-11-20',
  invoiceNumber: 'INV1042',
  status: 'overdue',
  script: null,
};

describe('payment reminder flow', () => {
  it('says nothing about the invoice to anyone it has not confirmed', async () => {
    for (const file of ['wrong-person.yaml', 'wrong-postcode.yaml', 'stop-calling.yaml']) {
      const result = await runScriptAsText(await loadCallScript(join(calls, file)));
      expect(result.failures, file).toEqual([]);
      const said = result.exchanges.map((exchange) => exchange.reply.text).join(' ');
      expect(said, file).not.toMatch(/245|dollars|I N V|November/);
    }
  });

  it('refuses a promise past the limit, saying the latest date it can note', async () => {
    const result = await runScriptAsText(await loadCallScript(join(calls, 'promise-too-late.yaml')));
    const refusal = result.exchanges.find((exchange) => exchange.input === 'march fifth')!;
    expect(refusal.reply.text).toMatch(/I can only note a date up to Monday, December 21st/);
    expect(result.records.filter((record) => record.type === 'reminder_outcome')).toHaveLength(1);
  });

  it('reads amounts as words a voice says well, and fills a phone script without reading unknown variables', () => {
    expect(speakAmount(245.5, 'USD')).toBe('245 dollars and 50 cents');
    expect(speakAmount(1200, 'SEK')).toBe('1200 kronor');
    expect(speakAmount(9.99, 'JPY')).toBe('9 JPY and 99 hundredths');
    const text = renderScript(
      {
        ...account,
        script: {
          name: 'final',
          version: 3,
          content: 'Final notice for {customer_name}: {amount} by {due_date}.{unknown}',
        },
      },
      { businessName: 'Northwind' },
    );
    expect(text).toBe('Final notice for Dana Reyes: 245 dollars and 50 cents by Friday, November 20th.');
  });
});
