import { z } from 'zod';

/**
 * One payment-reminder call: whose invoice, and how the call behaves. The campaign runner
 * sends it with the signed dispatch; the amount, due date, name and the facts that confirm
 * the person are read from the database by the call (never carried in the dispatch).
 */
export const reminderSettings = z.strictObject({
  customerId: z.uuid().optional(),
  paymentRecordId: z.uuid().optional(),
  taskId: z.uuid().optional(),
  campaignId: z.uuid().optional(),
  /** The phone script (templates.name) to read the reminder from; the flow's own text without one. */
  templateName: z.string().min(1).max(100).optional(),
  businessName: z.string().trim().min(1).max(100).default('Northwind Billing'),
  /** What confirms the person: their postcode, or their date of birth. */
  verifyWith: z.enum(['postcode', 'date_of_birth']).default('postcode'),
  /** A promise to pay must fall within this many days. */
  promiseMaxDays: z.number().int().min(1).max(90).default(14),
  timeZone: z.string().min(1).optional(),
});

export type ReminderSettings = z.infer<typeof reminderSettings>;
