-- Control plane (seed 002, seed 004's audit trail): organizations' plan and limits, users,
-- API keys, settings, customers and an append-only audit log. Runs as voice_migrator.

-- max_agents is also the organization's concurrent-call limit.
ALTER TABLE organizations
  ADD COLUMN tier VARCHAR(50) NOT NULL DEFAULT 'free',
  ADD COLUMN status VARCHAR(50) NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'suspended', 'cancelled')),
  ADD COLUMN max_agents INTEGER NOT NULL DEFAULT 1 CHECK (max_agents > 0),
  ADD COLUMN updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW();

CREATE TRIGGER update_organizations_updated_at
  BEFORE UPDATE ON organizations
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- Passwords: scrypt (memory-hard), encoded "scrypt$N$r$p$salt$hash" (src/control/passwords.ts).
-- Email is unique across organizations: one login, one organization.
CREATE TABLE users (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  email VARCHAR(255) NOT NULL UNIQUE,
  password_hash VARCHAR(255) NOT NULL,
  first_name VARCHAR(100),
  last_name VARCHAR(100),
  role VARCHAR(20) NOT NULL CHECK (role IN ('owner', 'admin', 'analyst', 'agent')),
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  last_login_at TIMESTAMP WITH TIME ZONE,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_users_organization ON users(organization_id);
CREATE TRIGGER update_users_updated_at BEFORE UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- Only a SHA-256 of the key is stored (keys are 256-bit random, so a fast hash suffices);
-- key_prefix is the key's public first characters, to tell keys apart in listings.
CREATE TABLE api_keys (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  name VARCHAR(100) NOT NULL,
  key_prefix VARCHAR(16) NOT NULL,
  key_hash BYTEA NOT NULL UNIQUE,
  permissions TEXT[] NOT NULL DEFAULT '{}',
  expires_at TIMESTAMP WITH TIME ZONE,
  revoked_at TIMESTAMP WITH TIME ZONE,
  last_used_at TIMESTAMP WITH TIME ZONE,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_api_keys_organization ON api_keys(organization_id);

CREATE TABLE settings (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  category VARCHAR(100) NOT NULL,
  key VARCHAR(100) NOT NULL,
  value JSONB NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  UNIQUE (organization_id, category, key)
);
CREATE TRIGGER update_settings_updated_at BEFORE UPDATE ON settings
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- Phone numbers like conversations': ciphertext (src/persistence/pii.ts) plus a keyed hash.
CREATE TABLE customers (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  external_id VARCHAR(255),
  first_name VARCHAR(100),
  last_name VARCHAR(100),
  email VARCHAR(255),
  phone_encrypted BYTEA,
  phone_hash BYTEA,
  metadata JSONB,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  UNIQUE (organization_id, external_id)
);
CREATE INDEX idx_customers_phone_hash ON customers(organization_id, phone_hash);
CREATE TRIGGER update_customers_updated_at BEFORE UPDATE ON customers
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- Seed 004's audit trail; before/after are the entity's JSON without secrets.
CREATE TABLE audit_logs (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  actor_type VARCHAR(50) NOT NULL CHECK (actor_type IN ('user', 'api_key', 'cli', 'system')),
  actor_id VARCHAR(255) NOT NULL,
  action VARCHAR(50) NOT NULL,
  entity_type VARCHAR(50) NOT NULL,
  entity_id VARCHAR(255) NOT NULL,
  before JSONB,
  after JSONB,
  metadata JSONB,
  occurred_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_audit_logs_entity ON audit_logs(organization_id, entity_type, entity_id);
CREATE INDEX idx_audit_logs_occurred_at ON audit_logs(organization_id, occurred_at);

-- Append-only for every role but the table's owner (voice_migrator, e.g. for an erasure
-- that must reach the audit trail too): no grant allows it, and the trigger refuses it even
-- if a later grant did.
CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID) THEN
    RETURN COALESCE(NEW, OLD);
  END IF;
  RAISE EXCEPTION 'audit_logs is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
  FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();

SELECT enable_tenant_rls(t) FROM unnest(ARRAY['users', 'api_keys', 'settings', 'customers',
  'audit_logs']::regclass[]) AS t;

GRANT SELECT, INSERT, UPDATE ON users, api_keys, settings, customers TO voice_admin_api;
GRANT DELETE ON settings, customers TO voice_admin_api;
GRANT SELECT, INSERT ON audit_logs TO voice_admin_api;
-- The worker reads a route's settings and customers (lookup by phone hash); the persister
-- touches none of these.
GRANT SELECT ON settings, customers TO voice_worker;
