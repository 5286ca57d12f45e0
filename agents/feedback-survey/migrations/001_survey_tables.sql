-- Seed 003 (feedback survey calls). The seed's business_id is our organization_id; every
-- table is a tenant table (enable_tenant_rls at the end). Seed 003's call_sessions is kept
-- as one call record: conversations holds the call (started/ended/duration/transcript
-- turns), survey_calls holds the survey's own columns and state machine, keyed to it.

CREATE TABLE question_configurations (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  question_text TEXT NOT NULL CHECK (char_length(btrim(question_text)) BETWEEN 10 AND 500),
  -- The business's language: question text is spoken as written, in this language.
  language VARCHAR(10) NOT NULL DEFAULT 'en-US' CHECK (language IN ('en-US', 'sv-SE')),
  frequency INTEGER NOT NULL CHECK (frequency BETWEEN 1 AND 100),
  priority VARCHAR(10) NOT NULL CHECK (priority IN ('high', 'medium', 'low')),
  department_tags JSONB NOT NULL
    CHECK (jsonb_typeof(department_tags) = 'array' AND jsonb_array_length(department_tags) > 0),
  active_from DATE,
  active_until DATE,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  max_response_time INTEGER NOT NULL DEFAULT 30 CHECK (max_response_time BETWEEN 1 AND 60),
  follow_up_prompts JSONB CHECK (follow_up_prompts IS NULL OR jsonb_typeof(follow_up_prompts) = 'array'),
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  CONSTRAINT question_active_period CHECK (active_from IS NULL OR active_until IS NULL OR active_from <= active_until)
);
CREATE INDEX idx_question_configs_business_active ON question_configurations (organization_id, is_active);

-- The per-business customer number question frequencies count against (seed: customer_count).
CREATE TABLE survey_customer_counters (
  organization_id UUID PRIMARY KEY REFERENCES organizations(id),
  customer_count INTEGER NOT NULL DEFAULT 0 CHECK (customer_count >= 0),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);

CREATE TABLE survey_calls (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  -- The call itself, once the worker has it; a call never placed has none.
  conversation_id UUID UNIQUE REFERENCES conversations(id) ON DELETE SET NULL,
  verification_id UUID NOT NULL,
  -- Sealed with the deployment's PII key ring; the keyed hash finds a caller's rows.
  customer_phone TEXT NOT NULL,
  customer_phone_hash BYTEA NOT NULL,
  customer_count INTEGER NOT NULL CHECK (customer_count > 0),
  status VARCHAR(20) NOT NULL DEFAULT 'initiated'
    CHECK (status IN ('initiated', 'connecting', 'in_progress', 'completed', 'failed', 'timeout')),
  started_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  connected_at TIMESTAMP WITH TIME ZONE,
  ended_at TIMESTAMP WITH TIME ZONE,
  duration_seconds INTEGER CHECK (duration_seconds BETWEEN 0 AND 120),
  questions_asked JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(questions_asked) = 'array'),
  ai_session_id VARCHAR(255),
  telephony_call_id VARCHAR(255),
  cost_estimate NUMERIC(10, 4) CHECK (cost_estimate >= 0),
  recording_url VARCHAR(1024),
  transcript TEXT,
  end_reason VARCHAR(255),
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  -- One survey per verified visit: a business's system may send the same visit twice.
  UNIQUE (organization_id, verification_id)
);
CREATE INDEX idx_survey_calls_business_status ON survey_calls (organization_id, status);
CREATE INDEX idx_survey_calls_created_at ON survey_calls (created_at);
CREATE INDEX idx_survey_calls_phone_hash ON survey_calls (customer_phone_hash);

-- The seed's state machine, enforced where every writer meets it: the database.
CREATE FUNCTION survey_call_status_guard() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.status <> 'initiated' THEN
      RAISE EXCEPTION 'a survey call starts as initiated, not %', NEW.status USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
  END IF;
  IF NEW.status = OLD.status THEN
    RETURN NEW;
  END IF;
  IF (OLD.status, NEW.status) IN (
       ('initiated', 'connecting'), ('initiated', 'failed'),
       ('connecting', 'in_progress'), ('connecting', 'failed'),
       ('in_progress', 'completed'), ('in_progress', 'timeout'), ('in_progress', 'failed')) THEN
    NEW.updated_at := NOW();
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'survey call status cannot go from % to %', OLD.status, NEW.status
    USING ERRCODE = 'check_violation';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER survey_call_status_transitions
  BEFORE INSERT OR UPDATE OF status ON survey_calls
  FOR EACH ROW EXECUTE FUNCTION survey_call_status_guard();

-- Seed 003's call_responses: one answer to one question.
CREATE TABLE call_responses (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  survey_call_id UUID NOT NULL REFERENCES survey_calls(id) ON DELETE CASCADE,
  question_id UUID REFERENCES question_configurations(id) ON DELETE SET NULL,
  question_text TEXT NOT NULL,
  response_text TEXT,
  response_duration INTEGER CHECK (response_duration BETWEEN 0 AND 60),
  confidence_score NUMERIC(4, 3) CHECK (confidence_score BETWEEN 0 AND 1),
  sentiment_score NUMERIC(4, 3) CHECK (sentiment_score BETWEEN -1 AND 1),
  asked_at TIMESTAMP WITH TIME ZONE NOT NULL,
  responded_at TIMESTAMP WITH TIME ZONE,
  ai_analysis JSONB,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  CONSTRAINT response_after_question CHECK (responded_at IS NULL OR asked_at <= responded_at)
);
CREATE INDEX idx_call_responses_session ON call_responses (survey_call_id);
CREATE INDEX idx_call_responses_question ON call_responses (question_id, asked_at);

CREATE TABLE question_selection_logs (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  survey_call_id UUID REFERENCES survey_calls(id) ON DELETE CASCADE,
  customer_count INTEGER NOT NULL CHECK (customer_count > 0),
  selected_questions JSONB NOT NULL CHECK (jsonb_typeof(selected_questions) = 'array'),
  selection_algorithm VARCHAR(100) NOT NULL,
  selection_criteria JSONB NOT NULL,
  time_budget_seconds INTEGER NOT NULL CHECK (time_budget_seconds BETWEEN 60 AND 120),
  estimated_duration INTEGER NOT NULL CHECK (estimated_duration >= 0),
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  CONSTRAINT selection_within_budget CHECK (estimated_duration <= time_budget_seconds)
);
CREATE INDEX idx_question_selection_business_time ON question_selection_logs (organization_id, created_at);

SELECT enable_tenant_rls('question_configurations');
SELECT enable_tenant_rls('survey_customer_counters');
SELECT enable_tenant_rls('survey_calls');
SELECT enable_tenant_rls('call_responses');
SELECT enable_tenant_rls('question_selection_logs');

-- Who writes what (docs/SECURITY.md): businesses manage questions through the admin API; the
-- survey trigger (worker role) opens a survey call and counts the customer; the persister
-- writes what the call recorded (answers, the selection, status changes).
GRANT SELECT, INSERT, UPDATE, DELETE ON question_configurations TO voice_admin_api;
GRANT SELECT ON survey_customer_counters, survey_calls, call_responses, question_selection_logs
  TO voice_admin_api;
GRANT SELECT ON question_configurations TO voice_worker, voice_persister;
-- Selection prefers the longest-waiting question: when each was last asked is in the answers.
GRANT SELECT ON call_responses TO voice_worker;
-- Opening a survey call logs its question selection in the same transaction.
GRANT SELECT, INSERT ON question_selection_logs TO voice_worker;
GRANT SELECT, INSERT, UPDATE ON survey_customer_counters, survey_calls TO voice_worker;
GRANT SELECT, INSERT, UPDATE ON survey_calls, call_responses, question_selection_logs TO voice_persister;
