import type pg from 'pg';

/**
 * A flow package's migration may only create tenant tables: each with an organization_id and
 * row-level security forced with a policy (enable_tenant_rls). Checked inside the migration's
 * own transaction, so a table that would leak across organizations is never committed.
 */

const TABLES = `
  SELECT c.relname AS name,
         c.relrowsecurity AND c.relforcerowsecurity AS protected,
         EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid) AS has_policy,
         EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                   AND a.attname = 'organization_id' AND NOT a.attisdropped) AS has_org
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition`;

interface TableRow {
  name: string;
  protected: boolean;
  has_policy: boolean;
  has_org: boolean;
}

/** The public tables that exist now (taken before a flow migration runs). */
export async function tableNames(client: pg.ClientBase): Promise<Set<string>> {
  const { rows } = await client.query<TableRow>(TABLES);
  return new Set(rows.map((row) => row.name));
}

/** Why the tables created since `before` are not tenant tables; empty when they all are. */
export async function unprotectedNewTables(client: pg.ClientBase, before: Set<string>): Promise<string[]> {
  const { rows } = await client.query<TableRow>(TABLES);
  const problems: string[] = [];
  for (const table of rows) {
    if (before.has(table.name)) continue;
    if (!table.has_org) problems.push(`${table.name} has no organization_id column`);
    else if (!table.protected || !table.has_policy)
      problems.push(
        `${table.name} has no row-level security: add SELECT enable_tenant_rls('${table.name}');`,
      );
  }
  return problems;
}
