import type pg from 'pg';
import { withOrganization } from '../persistence/tenant-scope.js';
import { type ApiPermission, generateApiKey } from './api-keys.js';
import { type Actor, recordAudit } from './audit.js';

/** An API key as stored and listed: never the key itself, nor its hash. */
export interface ApiKeyInfo {
  id: string;
  organization_id: string;
  name: string;
  key_prefix: string;
  permissions: string[];
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  created_at: Date;
}

export interface NewApiKeyInput {
  organizationId: string;
  name: string;
  permissions: ApiPermission[];
  expiresAt?: Date;
}

const COLUMNS =
  'id, organization_id, name, key_prefix, permissions, expires_at, revoked_at, last_used_at, created_at';

/** Creates a key; the returned `key` is the only copy there will ever be. */
export async function createApiKey(
  pool: pg.Pool,
  actor: Actor,
  input: NewApiKeyInput,
): Promise<{ key: string; info: ApiKeyInfo }> {
  const name = input.name.trim();
  if (!name) throw new RangeError('API key name must not be empty');
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
    throw new RangeError('expiry must be in the future');
  }
  const generated = generateApiKey();
  return withOrganization(pool, input.organizationId, async (client) => {
    const { rows } = await client.query<ApiKeyInfo>(
      `INSERT INTO api_keys (organization_id, name, key_prefix, key_hash, permissions, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [
        input.organizationId,
        name,
        generated.prefix,
        generated.hash,
        input.permissions,
        input.expiresAt ?? null,
      ],
    );
    const info = rows[0]!;
    await recordAudit(client, {
      organizationId: input.organizationId,
      actor,
      action: 'created',
      entityType: 'api_key',
      entityId: info.id,
      after: info,
    });
    return { key: generated.key, info };
  });
}

export function listApiKeys(pool: pg.Pool, organizationId: string): Promise<ApiKeyInfo[]> {
  return withOrganization(pool, organizationId, async (client) => {
    const { rows } = await client.query<ApiKeyInfo>(
      `SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`,
    );
    return rows;
  });
}

/** Revokes a key of the organization; false if it has no such key or it was revoked already. */
export function revokeApiKey(
  pool: pg.Pool,
  actor: Actor,
  organizationId: string,
  keyId: string,
): Promise<boolean> {
  return withOrganization(pool, organizationId, async (client) => {
    const before = await client.query<ApiKeyInfo>(
      `SELECT ${COLUMNS} FROM api_keys WHERE id = $1 AND revoked_at IS NULL FOR UPDATE`,
      [keyId],
    );
    if (!before.rows[0]) return false;
    const { rows } = await client.query<ApiKeyInfo>(
      `UPDATE api_keys SET revoked_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
      [keyId],
    );
    await recordAudit(client, {
      organizationId,
      actor,
      action: 'revoked',
      entityType: 'api_key',
      entityId: keyId,
      before: before.rows[0],
      after: rows[0],
    });
    return true;
  });
}
