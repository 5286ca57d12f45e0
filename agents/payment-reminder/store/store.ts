/** What the reminder call needs to know about the customer and their invoice. */
export interface ReminderAccount {
  customerId: string;
  paymentRecordId: string;
  firstName: string;
  fullName: string;
  /** Normalized (upper case, no spaces); null when not on file. */
  postcode: string | null;
  /** YYYY-MM-DD; null when not on file. */
  dateOfBirth: string | null;
  amount: number;
  currency: string;
  dueDate: string;
  invoiceNumber: string;
  status: string;
  /** The phone script, when the call names one: its text with {variables}, and its version. */
  script: { name: string; version: number; content: string } | null;
}

export interface ReminderStore {
  loadAccount(request: {
    organizationId: string;
    customerId: string;
    paymentRecordId: string;
    templateName?: string;
  }): Promise<ReminderAccount | null>;
}

export function normalizePostcode(text: string): string {
  return text.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

/** An in-memory store for scripted calls and unit tests (named a fake: no database). */
export class FakeReminderStore implements ReminderStore {
  constructor(private readonly accounts: readonly ReminderAccount[]) {}

  async loadAccount(request: {
    customerId: string;
    paymentRecordId: string;
  }): Promise<ReminderAccount | null> {
    return (
      this.accounts.find(
        (account) =>
          account.customerId === request.customerId && account.paymentRecordId === request.paymentRecordId,
      ) ?? null
    );
  }
}
