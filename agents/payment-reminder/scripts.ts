import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { FlowScripts } from '../../src/conversation/index.js';
import type { ReminderResources } from './resources.js';
import { FakeReminderStore } from './store/store.js';

const account = z.strictObject({
  customerId: z.uuid(),
  paymentRecordId: z.uuid(),
  firstName: z.string().min(1),
  fullName: z.string().min(1),
  postcode: z.string().nullable().default(null),
  dateOfBirth: z.iso.date().nullable().default(null),
  amount: z.number().nonnegative(),
  currency: z.string().length(3).default('USD'),
  dueDate: z.iso.date(),
  invoiceNumber: z.string().min(1),
  status: z.enum(['pending', 'overdue', 'paid', 'partial', 'cancelled']).default('overdue'),
  script: z
    .strictObject({ name: z.string(), version: z.number().int(), content: z.string() })
    .nullable()
    .default(null),
});
const setup = z.strictObject({ accounts: z.array(account).min(1) });

const expectations = z.strictObject({
  /** The outcome the call records (none: nothing recorded). */
  outcome: z.string().optional(),
  opted_out: z.boolean().optional(),
  promise_date: z.iso.date().optional(),
  /** No amount may be spoken before the person is confirmed. */
  amount_withheld: z.boolean().optional(),
});

/** The reminder's caller scripts: data the call meets, and what it must record. */
export const reminderScripts: FlowScripts<ReminderResources> = {
  dir: fileURLToPath(new URL('./calls/', import.meta.url)),
  setup,
  offline: (raw) => ({ store: new FakeReminderStore(setup.parse(raw).accounts) }),
  expectations,
  check(raw, records) {
    const want = expectations.parse(raw);
    const failures: string[] = [];
    const outcome = records.find((r) => r.type === 'reminder_outcome')?.data;
    if (want.outcome !== undefined && outcome?.outcome !== want.outcome)
      failures.push(`outcome ${String(outcome?.outcome)}, expected ${want.outcome}`);
    if (want.promise_date !== undefined && outcome?.promise_date !== want.promise_date)
      failures.push(`promise_date ${String(outcome?.promise_date)}, expected ${want.promise_date}`);
    const optedOut = records.some((r) => r.type === 'opt_out');
    if (want.opted_out !== undefined && optedOut !== want.opted_out)
      failures.push(`opt-out recorded ${optedOut}, expected ${want.opted_out}`);
    return failures;
  },
};
