-- Tenancy: least-privilege roles and row-level security on every tenant table.
--
-- Roles are cluster-wide, so they are created only when missing (concurrent runners on other
-- databases of the same server may race us: a duplicate is not an error). None of them is a
-- superuser or has BYPASSRLS; trust/peer/password authentication is the server's business.
--   voice_migrator        owns every table, view and function; `migrate up` runs as it
--   voice_persister       writes call events; runs the reaper and retention
--   voice_worker          reads routes, settings and organizations; a flow's own stores
--   voice_admin_api       control plane: organizations, users, keys, settings, customers, audit
--   voice_reporting       read-only analytics
--   voice_tenant_resolver NOLOGIN: owns the two SECURITY DEFINER lookups that must see across
--                         organizations (which organization a call belongs to; which exist)
-- Bootstrapping: this migration itself must run as a role that may create roles (the server's
-- superuser locally); later migrations run as voice_migrator (src/persistence/migrate.ts).
DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['voice_migrator', 'voice_persister', 'voice_worker', 'voice_admin_api',
                           'voice_reporting', 'voice_tenant_resolver'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I %s NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE', r,
          CASE WHEN r = 'voice_tenant_resolver' THEN 'NOLOGIN' ELSE 'LOGIN' END);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
      END;
    END IF;
  END LOOP;
END $$;

GRANT USAGE, CREATE ON SCHEMA public TO voice_migrator;
GRANT USAGE ON SCHEMA public TO voice_persister, voice_worker, voice_admin_api, voice_reporting,
  voice_tenant_resolver;
-- The migration runner switches to voice_migrator; a login as it needs to connect too.
DO $$ BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO voice_migrator, voice_persister, voice_worker, '
    'voice_admin_api, voice_reporting', current_database());
END $$;

-- Everything created so far (by whoever ran 001–009) now belongs to the migrator.
DO $$
DECLARE
  obj record;
BEGIN
  FOR obj IN
    SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
      AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
        WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO voice_migrator',
      CASE obj.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
        WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, obj.name);
  END LOOP;
  FOR obj IN
    SELECT p.oid::regprocedure AS name FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_depend d
      WHERE d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO voice_migrator', obj.name);
  END LOOP;
END $$;

-- The organization a transaction works for: `SET LOCAL app.organization_id = '…'` (or
-- set_config(…, true)). Unset or empty means none, and then no tenant row is visible.
CREATE FUNCTION current_organization_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT NULLIF(current_setting('app.organization_id', true), '')::uuid
$$;

-- Every table with an organization_id calls this (core migrations and flow packages'):
-- rows are visible and writable only for the transaction's organization, for every role
-- including the table's owner (FORCE). Superusers still bypass RLS: services never use one.
CREATE FUNCTION enable_tenant_rls(tbl regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %s', tbl);
  EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (organization_id = current_organization_id()) '
    'WITH CHECK (organization_id = current_organization_id())', tbl);
  -- Reporting reads every tenant table (its policy still limits it to one organization).
  EXECUTE format('GRANT SELECT ON %s TO voice_reporting', tbl);
END $$;

DO $$
DECLARE
  t regclass;
BEGIN
  FOR t IN
    SELECT c.oid::regclass FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'organization_id' AND NOT a.attisdropped
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  LOOP
    PERFORM enable_tenant_rls(t);
  END LOOP;
END $$;

-- Organizations: each one sees its own row. The admin API (platform operators) lists all;
-- it decides which a caller of the API may see.
ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organizations FORCE ROW LEVEL SECURITY;
CREATE POLICY own_organization ON organizations
  USING (id = current_organization_id()) WITH CHECK (id = current_organization_id());
CREATE POLICY directory ON organizations FOR SELECT TO voice_admin_api, voice_tenant_resolver
  USING (true);
CREATE POLICY resolve_calls ON conversations FOR SELECT TO voice_tenant_resolver USING (true);
GRANT SELECT (id) ON organizations TO voice_tenant_resolver;
GRANT SELECT (id, organization_id) ON conversations TO voice_tenant_resolver;

-- Which organization each known call belongs to: the persister asks before writing a batch,
-- so a call's organization is the one its conversations row has (set from the route by
-- call.started), never what a later event claims.
CREATE FUNCTION call_organizations(call_ids uuid[])
RETURNS TABLE (call_id uuid, organization_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT c.id, c.organization_id FROM conversations c WHERE c.id = ANY(call_ids)
$$;
ALTER FUNCTION call_organizations(uuid[]) OWNER TO voice_tenant_resolver;

-- Every organization id: the reaper and retention run once per organization.
CREATE FUNCTION tenant_organization_ids() RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT id FROM organizations ORDER BY id
$$;
ALTER FUNCTION tenant_organization_ids() OWNER TO voice_tenant_resolver;

REVOKE EXECUTE ON FUNCTION call_organizations(uuid[]), tenant_organization_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION call_organizations(uuid[]), tenant_organization_ids() TO voice_persister;

-- Metric partitions are created and dropped by retention (the persister), which does not own
-- them: the two maintenance functions run as their owner, the migrator.
ALTER FUNCTION ensure_metric_partitions(int) SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION purge_system_metrics(timestamptz) SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE EXECUTE ON FUNCTION ensure_metric_partitions(int), purge_system_metrics(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ensure_metric_partitions(int), purge_system_metrics(timestamptz)
  TO voice_persister;

-- Views check the querying role's privileges and policies, not the owner's.
DO $$
DECLARE
  v regclass;
BEGIN
  FOR v IN SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'v'
  LOOP
    EXECUTE format('ALTER VIEW %s SET (security_invoker = true)', v);
    EXECUTE format('GRANT SELECT ON %s TO voice_reporting', v);
  END LOOP;
END $$;

-- What each service uses (docs/SECURITY.md lists the same). The persister writes every
-- event-sourced table, archives and purges; nobody else writes call records.
GRANT SELECT, INSERT, UPDATE, DELETE ON conversations TO voice_persister;
GRANT SELECT, INSERT ON conversation_turns, state_transitions, extracted_slots, call_events
  TO voice_persister;
GRANT SELECT, INSERT, DELETE ON error_logs TO voice_persister;
-- DELETE: retention removes old metrics per organization (purge_system_metrics, running as
-- the migrator, drops whole partitions but sees no rows under RLS).
GRANT SELECT, INSERT, DELETE ON system_metrics TO voice_persister;
GRANT SELECT, INSERT, DELETE ON conversations_archive TO voice_persister;
GRANT SELECT ON organizations TO voice_persister, voice_worker, voice_reporting;
GRANT SELECT ON conversations, conversation_turns, state_transitions, extracted_slots, call_events,
  error_logs, conversations_archive TO voice_admin_api;
GRANT SELECT, INSERT, UPDATE ON organizations TO voice_admin_api;

-- Flow tables that are still core today; a flow package that owns them grants the same in its
-- own migration (see docs/SECURITY.md).
DO $$ BEGIN
  IF to_regclass('appointments') IS NOT NULL THEN
    GRANT SELECT, INSERT, UPDATE ON appointments TO voice_persister, voice_worker;
    GRANT SELECT ON appointments TO voice_admin_api;
  END IF;
  IF to_regclass('user_feedback') IS NOT NULL THEN
    GRANT SELECT, INSERT ON user_feedback TO voice_persister;
    GRANT SELECT ON user_feedback TO voice_admin_api;
  END IF;
  IF to_regclass('phone_routes') IS NOT NULL THEN
    GRANT SELECT ON phone_routes TO voice_worker, voice_persister;
    GRANT SELECT, INSERT, UPDATE, DELETE ON phone_routes TO voice_admin_api;
  END IF;
END $$;

ALTER FUNCTION current_organization_id() OWNER TO voice_migrator;
ALTER FUNCTION enable_tenant_rls(regclass) OWNER TO voice_migrator;
