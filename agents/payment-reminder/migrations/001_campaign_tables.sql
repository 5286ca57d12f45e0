-- Seed 004 (payment-escalation campaigns). Customers, their profiles, opt-outs, contact
-- attempts and compliance rules are the platform's (core 011, 050): every outbound flow
-- shares them. This package adds what campaigns own. Soft deletes (deleted_at) where the seed
-- keeps important records: customers (core) and payment records, campaigns, templates here.
ALTER TABLE customers
  ADD COLUMN IF NOT EXISTS company_name VARCHAR(255),
  ADD COLUMN IF NOT EXISTS preferred_contact_method VARCHAR(20)
    CHECK (preferred_contact_method IS NULL OR preferred_contact_method IN ('email', 'phone', 'sms')),
  ADD COLUMN IF NOT EXISTS tags TEXT[] NOT NULL DEFAULT '{}',
  ADD COLUMN IF NOT EXISTS deleted_at TIMESTAMP WITH TIME ZONE;

CREATE TABLE payment_records (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  customer_id UUID NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  amount NUMERIC(12, 2) NOT NULL CHECK (amount >= 0),
  currency VARCHAR(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
  due_date DATE NOT NULL,
  paid_date DATE,
  status VARCHAR(20) NOT NULL CHECK (status IN ('pending', 'overdue', 'paid', 'partial', 'cancelled')),
  invoice_number VARCHAR(100) NOT NULL,
  description TEXT,
  metadata JSONB,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  deleted_at TIMESTAMP WITH TIME ZONE,
  UNIQUE (organization_id, invoice_number),
  CONSTRAINT paid_has_date CHECK (status <> 'paid' OR paid_date IS NOT NULL)
);
CREATE INDEX idx_payment_records_customer_id ON payment_records (customer_id);
CREATE INDEX idx_payment_records_status ON payment_records (status);
CREATE INDEX idx_payment_records_due_date ON payment_records (due_date);

-- Seed 004's agents: what works campaign tasks (our voice workers, by AGENT_NAME, and others).
CREATE TABLE agents (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  name VARCHAR(100) NOT NULL,
  type VARCHAR(20) NOT NULL CHECK (type IN ('email', 'phone', 'sms', 'research')),
  status VARCHAR(20) NOT NULL DEFAULT 'idle' CHECK (status IN ('idle', 'active', 'busy', 'error', 'offline')),
  capabilities TEXT[] NOT NULL DEFAULT '{}',
  current_task_count INTEGER NOT NULL DEFAULT 0 CHECK (current_task_count >= 0),
  max_concurrent_tasks INTEGER NOT NULL DEFAULT 5 CHECK (max_concurrent_tasks > 0),
  working_hours_start TIME,
  working_hours_end TIME,
  timezone VARCHAR(50) NOT NULL DEFAULT 'UTC',
  config JSONB,
  performance_metrics JSONB,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  last_active_at TIMESTAMP WITH TIME ZONE,
  UNIQUE (organization_id, name)
);
CREATE INDEX idx_agents_type ON agents (type);
CREATE INDEX idx_agents_status ON agents (status);

CREATE TABLE templates (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  name VARCHAR(100) NOT NULL,
  type VARCHAR(20) NOT NULL CHECK (type IN ('email', 'sms', 'phone_script')),
  channel VARCHAR(20) NOT NULL CHECK (channel IN ('email', 'phone', 'sms')),
  subject VARCHAR(255),
  content TEXT NOT NULL CHECK (char_length(btrim(content)) > 0),
  html_content TEXT,
  variables TEXT[] NOT NULL DEFAULT '{}',
  category VARCHAR(50),
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  -- Versioned: a change is a new row with the next version; calls name the version they used.
  version INTEGER NOT NULL DEFAULT 1 CHECK (version > 0),
  created_by VARCHAR(100),
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  deleted_at TIMESTAMP WITH TIME ZONE,
  UNIQUE (organization_id, name, version)
);

CREATE TABLE campaigns (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  name VARCHAR(255) NOT NULL,
  description TEXT,
  customer_id UUID NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  payment_record_id UUID REFERENCES payment_records(id) ON DELETE SET NULL,
  status VARCHAR(20) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'paused', 'completed', 'cancelled')),
  escalation_steps JSONB NOT NULL CHECK (jsonb_typeof(escalation_steps) = 'array' AND jsonb_array_length(escalation_steps) > 0),
  current_step INTEGER NOT NULL DEFAULT 0 CHECK (current_step >= 0),
  start_date TIMESTAMP WITH TIME ZONE NOT NULL,
  end_date TIMESTAMP WITH TIME ZONE,
  paused_until TIMESTAMP WITH TIME ZONE,
  results JSONB NOT NULL DEFAULT '{}',
  config JSONB,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  deleted_at TIMESTAMP WITH TIME ZONE
);
CREATE INDEX idx_campaigns_customer_id ON campaigns (customer_id);
CREATE INDEX idx_campaigns_status ON campaigns (status);
CREATE INDEX idx_campaigns_start_date ON campaigns (start_date);

CREATE TABLE tasks (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  type VARCHAR(50) NOT NULL CHECK (type IN ('send_email', 'make_call', 'send_sms', 'research_customer', 'escalate', 'follow_up')),
  priority VARCHAR(20) NOT NULL DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
  customer_id UUID NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  campaign_id UUID REFERENCES campaigns(id) ON DELETE CASCADE,
  payment_record_id UUID REFERENCES payment_records(id) ON DELETE SET NULL,
  status VARCHAR(20) NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'assigned', 'in_progress', 'completed', 'failed', 'cancelled')),
  assigned_agent_id UUID REFERENCES agents(id) ON DELETE SET NULL,
  context JSONB NOT NULL DEFAULT '{}',
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts INTEGER NOT NULL DEFAULT 3 CHECK (max_attempts > 0),
  -- Which escalation step made it: one task per (campaign, step), so a retried start adds none.
  step_index INTEGER,
  due_at TIMESTAMP WITH TIME ZONE,
  started_at TIMESTAMP WITH TIME ZONE,
  completed_at TIMESTAMP WITH TIME ZONE,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  UNIQUE (campaign_id, step_index)
);
CREATE INDEX idx_tasks_status ON tasks (status);
CREATE INDEX idx_tasks_customer_id ON tasks (customer_id);
CREATE INDEX idx_tasks_assigned_agent_id ON tasks (assigned_agent_id);
CREATE INDEX idx_tasks_due_at ON tasks (due_at);
CREATE INDEX idx_tasks_type_status ON tasks (type, status);

-- The core contact_attempts (050) now point at this package's tasks and agents.
ALTER TABLE contact_attempts
  ADD CONSTRAINT contact_attempts_task_fk FOREIGN KEY (task_id) REFERENCES tasks(id) ON DELETE CASCADE,
  ADD CONSTRAINT contact_attempts_agent_fk FOREIGN KEY (agent_id) REFERENCES agents(id) ON DELETE SET NULL,
  ADD CONSTRAINT contact_attempts_campaign_fk FOREIGN KEY (campaign_id) REFERENCES campaigns(id) ON DELETE SET NULL;

CREATE TRIGGER update_payment_records_updated_at BEFORE UPDATE ON payment_records
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_agents_updated_at BEFORE UPDATE ON agents
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_templates_updated_at BEFORE UPDATE ON templates
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_campaigns_updated_at BEFORE UPDATE ON campaigns
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_tasks_updated_at BEFORE UPDATE ON tasks
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

SELECT enable_tenant_rls('payment_records');
SELECT enable_tenant_rls('agents');
SELECT enable_tenant_rls('templates');
SELECT enable_tenant_rls('campaigns');
SELECT enable_tenant_rls('tasks');

-- The control plane manages campaigns and their data; the campaign runner (worker role)
-- reads them, moves tasks and campaigns along and records attempts; the persister writes what
-- calls recorded (outcomes, promises, opt-outs).
GRANT SELECT, INSERT, UPDATE, DELETE ON payment_records, agents, templates, campaigns, tasks TO voice_admin_api;
GRANT SELECT ON payment_records, agents, templates TO voice_worker;
GRANT SELECT, INSERT, UPDATE ON campaigns, tasks TO voice_worker;
GRANT UPDATE (current_task_count, status, last_active_at) ON agents TO voice_worker;
GRANT SELECT ON payment_records, campaigns, tasks, customers TO voice_persister;
GRANT UPDATE ON tasks, campaigns, contact_attempts TO voice_persister;
GRANT SELECT, INSERT, UPDATE ON opt_outs TO voice_persister;

-- How the payment-reminder call confirms the person before any amount is spoken: the seed's
-- address (postcode) and a date of birth, sealed with the PII key ring.
ALTER TABLE customers
  ADD COLUMN IF NOT EXISTS address JSONB,
  ADD COLUMN IF NOT EXISTS date_of_birth_sealed TEXT;
