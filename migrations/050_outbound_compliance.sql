-- Outbound contact compliance (seed 004), for every flow that calls customers: what the
-- customer allows (customer_profiles' window, zone, do-not-contact and channels to avoid,
-- opt_outs), what was tried (contact_attempts), the organization's rules
-- (compliance_rules), and every decision the check made before a contact
-- (compliance_decisions). src/outbound/compliance/ reads them; a campaign package adds its
-- tasks and agents and references these.

CREATE TABLE customer_profiles (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  customer_id UUID NOT NULL UNIQUE REFERENCES customers(id) ON DELETE CASCADE,
  risk_level VARCHAR(20) CHECK (risk_level IN ('low', 'medium', 'high', 'critical')),
  risk_score NUMERIC(5, 2) CHECK (risk_score BETWEEN 0 AND 100),
  average_payment_delay INTEGER,
  response_rate NUMERIC(3, 2) CHECK (response_rate BETWEEN 0 AND 1),
  preferred_contact_time_start TIME,
  preferred_contact_time_end TIME,
  timezone VARCHAR(50),
  communication_style VARCHAR(20) CHECK (communication_style IN ('formal', 'casual', 'direct', 'diplomatic')),
  do_not_contact BOOLEAN NOT NULL DEFAULT FALSE,
  contact_restrictions TEXT[] NOT NULL DEFAULT '{}' CHECK (contact_restrictions <@ ARRAY['email', 'phone', 'sms']),
  notes TEXT[],
  last_contact_date TIMESTAMP WITH TIME ZONE,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  CONSTRAINT preferred_window_whole CHECK ((preferred_contact_time_start IS NULL) = (preferred_contact_time_end IS NULL))
);
CREATE TRIGGER update_customer_profiles_updated_at BEFORE UPDATE ON customer_profiles
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TABLE opt_outs (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  customer_id UUID NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  channel VARCHAR(20) NOT NULL CHECK (channel IN ('email', 'phone', 'sms', 'all')),
  reason TEXT,
  opted_out_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  -- A temporary opt-out ends here; NULL: for good.
  expires_at TIMESTAMP WITH TIME ZONE,
  metadata JSONB,
  UNIQUE (customer_id, channel),
  CONSTRAINT opt_out_expires_after_start CHECK (expires_at IS NULL OR expires_at > opted_out_at)
);
CREATE INDEX idx_opt_outs_customer_id ON opt_outs (customer_id);

CREATE TABLE contact_attempts (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  -- The campaign package's task and agent (its migrations add the foreign keys).
  task_id UUID,
  agent_id UUID,
  customer_id UUID NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  campaign_id UUID,
  conversation_id UUID REFERENCES conversations(id) ON DELETE SET NULL,
  channel VARCHAR(20) NOT NULL CHECK (channel IN ('email', 'phone', 'sms')),
  status VARCHAR(20) NOT NULL
    CHECK (status IN ('sent', 'delivered', 'opened', 'answered', 'replied', 'bounced', 'failed', 'busy', 'no_answer', 'voicemail', 'blocked')),
  "timestamp" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  duration INTEGER CHECK (duration >= 0),
  response TEXT,
  metadata JSONB,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_contact_attempts_customer_id ON contact_attempts (customer_id, "timestamp");
CREATE INDEX idx_contact_attempts_campaign_id ON contact_attempts (campaign_id);
CREATE INDEX idx_contact_attempts_channel ON contact_attempts (channel);

CREATE TABLE compliance_rules (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  name VARCHAR(100) NOT NULL,
  description TEXT,
  rule_type VARCHAR(50) NOT NULL CHECK (rule_type IN ('time_restriction', 'frequency_limit', 'channel_restriction')),
  condition JSONB NOT NULL CHECK (jsonb_typeof(condition) = 'object'),
  action VARCHAR(50) NOT NULL CHECK (action IN ('block_contact', 'require_approval', 'log_warning', 'escalate')),
  severity VARCHAR(20) NOT NULL DEFAULT 'medium' CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  is_enabled BOOLEAN NOT NULL DEFAULT TRUE,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  UNIQUE (organization_id, name)
);
CREATE TRIGGER update_compliance_rules_updated_at BEFORE UPDATE ON compliance_rules
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- Every check before a contact, allowed or not, with the rules that decided it.
CREATE TABLE compliance_decisions (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  customer_id UUID REFERENCES customers(id) ON DELETE CASCADE,
  channel VARCHAR(20) NOT NULL,
  checked_for TIMESTAMP WITH TIME ZONE NOT NULL,
  allowed BOOLEAN NOT NULL,
  blocked_by TEXT[] NOT NULL DEFAULT '{}',
  decision JSONB NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_compliance_decisions_customer ON compliance_decisions (customer_id, created_at);

SELECT enable_tenant_rls('customer_profiles');
SELECT enable_tenant_rls('opt_outs');
SELECT enable_tenant_rls('contact_attempts');
SELECT enable_tenant_rls('compliance_rules');
SELECT enable_tenant_rls('compliance_decisions');

-- The control plane manages profiles, opt-outs and rules; diallers (worker role) read them,
-- record their attempts and decisions, and record an opt-out a customer asks for on a call.
GRANT SELECT, INSERT, UPDATE, DELETE ON customer_profiles, opt_outs, compliance_rules TO voice_admin_api;
GRANT SELECT ON contact_attempts, compliance_decisions TO voice_admin_api;
GRANT SELECT ON customer_profiles, compliance_rules TO voice_worker;
GRANT SELECT, INSERT, UPDATE ON opt_outs TO voice_worker;
GRANT SELECT, INSERT ON contact_attempts, compliance_decisions TO voice_worker;
GRANT SELECT, INSERT ON contact_attempts TO voice_persister;
-- A contact the check stopped is audited by the dialler that asked.
GRANT SELECT, INSERT ON audit_logs TO voice_worker;
