-- The callback example's own table: one row per callback a caller asked for.
CREATE TABLE callback_requests (
  id UUID PRIMARY KEY,
  organization_id UUID NOT NULL REFERENCES organizations(id),
  conversation_id UUID NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  caller_name VARCHAR(100) NOT NULL,
  callback_day DATE NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);
CREATE INDEX callback_requests_conversation ON callback_requests (conversation_id);
