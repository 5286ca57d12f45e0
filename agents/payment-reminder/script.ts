import { speakDate } from '../../src/conversation/index.js';
import type { ReminderSettings } from './settings.js';
import type { ReminderAccount } from './store/store.js';

/** The flow's own reminder when the call names no phone script. */
export const DEFAULT_SCRIPT =
  'Thank you, {first_name}. This is a reminder that invoice {invoice_number} for {amount} was due on {due_date}.';

const UNITS: Record<string, [string, string]> = {
  USD: ['dollars', 'cents'],
  EUR: ['euros', 'cents'],
  GBP: ['pounds', 'pence'],
  SEK: ['kronor', 'öre'],
  CAD: ['Canadian dollars', 'cents'],
  AUD: ['Australian dollars', 'cents'],
};

/** "245 dollars and 50 cents": what a voice reads well (no symbols, no decimal point). */
export function speakAmount(amount: number, currency: string): string {
  const [major, minor] = UNITS[currency] ?? [currency, 'hundredths'];
  const cents = Math.round(amount * 100);
  const whole = Math.floor(cents / 100);
  const rest = cents % 100;
  return rest ? `${whole} ${major} and ${rest} ${minor}` : `${whole} ${major}`;
}

/** The script's text with its {variables} filled; an unknown variable is left out, not read out. */
export function renderScript(
  account: ReminderAccount,
  settings: Pick<ReminderSettings, 'businessName'>,
): string {
  const values: Record<string, string> = {
    first_name: account.firstName,
    customer_name: account.fullName,
    amount: speakAmount(account.amount, account.currency),
    currency: account.currency,
    due_date: speakDate(account.dueDate),
    invoice_number: account.invoiceNumber.split('').join(' '),
    business_name: settings.businessName,
  };
  return (account.script?.content ?? DEFAULT_SCRIPT).replace(
    /\{(\w+)\}/g,
    (_match, name: string) => values[name] ?? '',
  );
}
