import type pg from 'pg';
import { withOrganization } from '../../../src/persistence/tenant-scope.js';
import { normalizePostcode, type ReminderAccount, type ReminderStore } from './store.js';

/** The reminder's data in Postgres (the customer, the invoice, the script), scoped by RLS. */
export class PgReminderStore implements ReminderStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly personalData?: { openText(text: string): string },
  ) {}

  async loadAccount(request: {
    organizationId: string;
    customerId: string;
    paymentRecordId: string;
    templateName?: string;
  }): Promise<ReminderAccount | null> {
    return withOrganization(this.pool, request.organizationId, async (client) => {
      const row = (
        await client.query(
          `SELECT c.first_name, c.last_name, c.address->>'zipCode' AS postcode, c.date_of_birth_sealed,
                  p.amount::float AS amount, p.currency, p.due_date::text AS due_date, p.invoice_number, p.status
             FROM customers c JOIN payment_records p ON p.customer_id = c.id
            WHERE c.id = $1 AND p.id = $2 AND c.deleted_at IS NULL AND p.deleted_at IS NULL`,
          [request.customerId, request.paymentRecordId],
        )
      ).rows[0];
      if (!row) return null;
      const script = request.templateName
        ? (
            await client.query(
              `SELECT name, version, content FROM templates
                WHERE name = $1 AND channel = 'phone' AND is_active AND deleted_at IS NULL
                ORDER BY version DESC LIMIT 1`,
              [request.templateName],
            )
          ).rows[0]
        : undefined;
      const sealed = row.date_of_birth_sealed as string | null;
      return {
        customerId: request.customerId,
        paymentRecordId: request.paymentRecordId,
        firstName: row.first_name ?? '',
        fullName: [row.first_name, row.last_name].filter(Boolean).join(' '),
        postcode: row.postcode ? normalizePostcode(row.postcode) : null,
        dateOfBirth: sealed && this.personalData ? this.personalData.openText(sealed) : null,
        amount: row.amount,
        currency: row.currency,
        dueDate: row.due_date,
        invoiceNumber: row.invoice_number,
        status: row.status,
        script: script ? { name: script.name, version: script.version, content: script.content } : null,
      };
    });
  }
}
