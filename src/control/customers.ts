import type pg from 'pg';
import type { PiiCipher } from '../persistence/pii.js';
import { withOrganization } from '../persistence/tenant-scope.js';
import { type Actor, recordAudit } from './audit.js';

/**
 * An organization's customers (seed 002). The phone number is personal data: stored only as
 * ciphertext plus a keyed hash, which is what lookups by number (a caller's own record,
 * erasure requests) compare. Audit entries never contain the number.
 */

export interface Customer {
  id: string;
  organization_id: string;
  external_id: string | null;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  has_phone: boolean;
  created_at: Date;
}

export interface CustomerInput {
  organizationId: string;
  externalId?: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  phone?: string;
}

const COLUMNS = `id, organization_id, external_id, first_name, last_name, email,
  phone_encrypted IS NOT NULL AS has_phone, created_at`;

export function createCustomer(
  pool: pg.Pool,
  pii: PiiCipher,
  actor: Actor,
  input: CustomerInput,
): Promise<Customer> {
  return withOrganization(pool, input.organizationId, async (client) => {
    const { rows } = await client.query<Customer>(
      `INSERT INTO customers (organization_id, external_id, first_name, last_name, email, phone_encrypted, phone_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [
        input.organizationId,
        input.externalId ?? null,
        input.firstName?.normalize('NFC') ?? null,
        input.lastName?.normalize('NFC') ?? null,
        input.email ?? null,
        input.phone ? pii.encrypt(input.phone) : null,
        input.phone ? pii.hash(input.phone) : null,
      ],
    );
    const customer = rows[0]!;
    await recordAudit(client, {
      organizationId: input.organizationId,
      actor,
      action: 'created',
      entityType: 'customer',
      entityId: customer.id,
      after: customer,
    });
    return customer;
  });
}

/** The organization's customers with this phone number (by keyed hash; never decrypts). */
export function findCustomersByPhone(
  pool: pg.Pool,
  pii: PiiCipher,
  organizationId: string,
  phone: string,
): Promise<Customer[]> {
  return withOrganization(pool, organizationId, async (client) => {
    const { rows } = await client.query<Customer>(
      `SELECT ${COLUMNS} FROM customers WHERE phone_hash = $1 ORDER BY created_at, id`,
      [pii.hash(phone)],
    );
    return rows;
  });
}
