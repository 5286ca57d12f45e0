-- Core call records: the appointment-booking schema (seed 001) extended for SIP voice calls
-- (seeds 000 and 003) and multi-tenancy. Rows are written by the persister from call events;
-- every event-sourced table uses the event's own UUID as its primary key, so replaying an
-- event inserts nothing twice.

CREATE TABLE organizations (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  name VARCHAR(255) NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);

-- Calls whose events carry no organization_id belong here (DEFAULT_ORGANIZATION_ID in
-- src/events/model.ts); single-tenant deployments never need another row.
INSERT INTO organizations (id, name) VALUES ('00000000-0000-0000-0000-000000000001', 'default');

CREATE OR REPLACE FUNCTION update_updated_at_column()
RETURNS TRIGGER AS $$
BEGIN
  NEW.updated_at = NOW();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TABLE conversations (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(), -- the call_id of every event of the call
  organization_id UUID NOT NULL DEFAULT '00000000-0000-0000-0000-000000000001'
    REFERENCES organizations(id),
  session_id VARCHAR(255) UNIQUE NOT NULL,
  room_name VARCHAR(255) NOT NULL,
  user_id VARCHAR(255),
  -- Seed 000's call status values; a row is ACTIVE until its call.ended event lands.
  status VARCHAR(20) NOT NULL DEFAULT 'ACTIVE'
    CHECK (status IN ('ACTIVE', 'COMPLETED', 'FAILED', 'INTERRUPTED')),
  direction VARCHAR(20) CHECK (direction IN ('inbound', 'outbound', 'simulated')),
  flow VARCHAR(100),
  worker_id VARCHAR(255),
  sip_call_id VARCHAR(255),
  -- Caller numbers are PII: AES-256-GCM ciphertext plus a keyed HMAC-SHA256 for equality
  -- lookups ("all calls from this number") without decrypting (src/persistence/pii.ts).
  caller_number_encrypted BYTEA,
  caller_number_hash BYTEA,
  trunk_number VARCHAR(64),
  started_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  ended_at TIMESTAMP WITH TIME ZONE,
  duration_seconds INTEGER,
  final_state VARCHAR(100),
  end_reason VARCHAR(255),
  metadata JSONB,
  -- Last time any event of this call was seen; a reaper can fail calls whose worker died.
  last_heartbeat_at TIMESTAMP WITH TIME ZONE,
  -- Which call.started / call.ended event filled this row. Events can arrive out of order, so
  -- a row may exist as a placeholder first; these make "filled once, finalized once" checkable.
  started_event_id UUID,
  ended_event_id UUID,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_conversations_organization_started ON conversations(organization_id, started_at);
CREATE INDEX idx_conversations_user_id ON conversations(user_id);
CREATE INDEX idx_conversations_status ON conversations(status);
CREATE INDEX idx_conversations_started_at ON conversations(started_at);
CREATE INDEX idx_conversations_sip_call_id ON conversations(sip_call_id);
CREATE INDEX idx_conversations_caller_hash ON conversations(organization_id, caller_number_hash);

CREATE TRIGGER update_conversations_updated_at
  BEFORE UPDATE ON conversations
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TABLE conversation_turns (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL,
  conversation_id UUID NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  turn_number INTEGER NOT NULL,
  role VARCHAR(20) NOT NULL CHECK (role IN ('user', 'agent')),
  text TEXT NOT NULL,
  audio_url TEXT,
  transcribed_text TEXT,
  llm_response TEXT,
  state_at_turn VARCHAR(100),
  metadata JSONB,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_turns_conversation_id ON conversation_turns(conversation_id, turn_number);
CREATE INDEX idx_turns_created_at ON conversation_turns(created_at);
CREATE INDEX idx_turns_role ON conversation_turns(role);

CREATE TABLE state_transitions (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL,
  conversation_id UUID NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  from_state VARCHAR(100),
  to_state VARCHAR(100) NOT NULL,
  trigger_type VARCHAR(50),
  trigger_data JSONB,
  transition_time TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  latency_ms INTEGER,
  metadata JSONB
);

CREATE INDEX idx_transitions_conversation_id ON state_transitions(conversation_id);
CREATE INDEX idx_transitions_to_state ON state_transitions(to_state);
CREATE INDEX idx_transitions_transition_time ON state_transitions(transition_time);

CREATE TABLE extracted_slots (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL,
  conversation_id UUID NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  -- Refers to conversation_turns(id) but is not a foreign key: a slot event may be committed
  -- before the turn event it came from (separate batches, concurrent persisters).
  turn_id UUID,
  slot_name VARCHAR(100) NOT NULL,
  slot_value TEXT NOT NULL,
  confidence_score DECIMAL(3,2) CHECK (confidence_score BETWEEN 0 AND 1),
  extraction_method VARCHAR(50),
  validated BOOLEAN DEFAULT FALSE,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_slots_conversation_id ON extracted_slots(conversation_id);
CREATE INDEX idx_slots_turn_id ON extracted_slots(turn_id);
CREATE INDEX idx_slots_slot_name ON extracted_slots(slot_name);
CREATE INDEX idx_slots_created_at ON extracted_slots(created_at);

CREATE TABLE appointments (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL DEFAULT '00000000-0000-0000-0000-000000000001'
    REFERENCES organizations(id),
  -- Nullable with SET NULL (seed: NOT NULL, CASCADE): a booking outlives the retention period
  -- of the call that made it.
  conversation_id UUID REFERENCES conversations(id) ON DELETE SET NULL,
  user_name VARCHAR(255),
  appointment_date DATE NOT NULL,
  appointment_time TIME NOT NULL,
  appointment_type VARCHAR(100),
  contact_info VARCHAR(255),
  status VARCHAR(50) NOT NULL DEFAULT 'confirmed'
    CHECK (status IN ('confirmed', 'cancelled', 'completed')),
  confirmation_code VARCHAR(50) UNIQUE,
  metadata JSONB,
  -- occurred_at of the last appointment event applied to this row; NULL for rows the booking
  -- store wrote directly, which events then never overwrite (the store is authoritative).
  event_updated_at TIMESTAMP WITH TIME ZONE,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_appointments_date ON appointments(appointment_date);
CREATE INDEX idx_appointments_status ON appointments(status);
CREATE INDEX idx_appointments_conversation_id ON appointments(conversation_id);
-- One confirmed booking per slot and organization: the booking store relies on this to refuse
-- double booking atomically, whatever the number of workers.
CREATE UNIQUE INDEX appointments_no_double_booking
  ON appointments(organization_id, appointment_date, appointment_time)
  WHERE status = 'confirmed';

CREATE TRIGGER update_appointments_updated_at
  BEFORE UPDATE ON appointments
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TABLE error_logs (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL,
  conversation_id UUID REFERENCES conversations(id) ON DELETE SET NULL,
  error_type VARCHAR(100) NOT NULL,
  error_message TEXT NOT NULL,
  stack_trace TEXT,
  context JSONB,
  severity VARCHAR(20) NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  resolved BOOLEAN DEFAULT FALSE,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_errors_conversation_id ON error_logs(conversation_id);
CREATE INDEX idx_errors_type ON error_logs(error_type);
CREATE INDEX idx_errors_severity ON error_logs(severity);
CREATE INDEX idx_errors_created_at ON error_logs(created_at);
CREATE INDEX idx_errors_resolved ON error_logs(resolved);

CREATE TABLE user_feedback (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL,
  conversation_id UUID NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  rating INTEGER CHECK (rating >= 1 AND rating <= 5),
  feedback_text TEXT,
  feedback_type VARCHAR(50),
  metadata JSONB,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_feedback_conversation_id ON user_feedback(conversation_id);
CREATE INDEX idx_feedback_rating ON user_feedback(rating);

-- Call lifecycle log (seed 003): initiated, connecting, answered, transferred, completed, ...
CREATE TABLE call_events (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL,
  conversation_id UUID NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  event_type VARCHAR(50) NOT NULL,
  event_data JSONB,
  source VARCHAR(20) CHECK (source IN ('system', 'telephony', 'ai', 'customer')),
  occurred_at TIMESTAMP WITH TIME ZONE NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_call_events_conversation_time ON call_events(conversation_id, occurred_at);
CREATE INDEX idx_call_events_occurred_at ON call_events(occurred_at);

-- Retention moves old conversations here (src/persistence/retention.ts). `details` keeps the
-- call's turns, transitions, slots, feedback and lifecycle events, which the cascade removes
-- from the live tables. The encrypted caller number is not archived; its keyed hash is, so
-- erasure requests by number still find archived calls.
CREATE TABLE conversations_archive (LIKE conversations INCLUDING ALL);
ALTER TABLE conversations_archive
  ADD COLUMN archived_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  ADD COLUMN details JSONB NOT NULL DEFAULT '{}';
CREATE INDEX idx_conversations_archive_archived_at ON conversations_archive(archived_at);
