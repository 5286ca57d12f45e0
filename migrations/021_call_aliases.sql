-- A re-dispatched call (LiveKit gives the agent the same SIP call again) gets a new call id in
-- the worker but has the same session_id (UNIQUE): the persister records the new id as an alias
-- of the existing conversation and writes the new dispatch's events into it.
CREATE TABLE call_aliases (
  call_id UUID PRIMARY KEY,
  conversation_id UUID NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  organization_id UUID NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_call_aliases_conversation ON call_aliases (conversation_id);
