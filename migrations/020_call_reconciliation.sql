-- Reconciliation: each call.ended declares how many events of each type the call emitted
-- (event_counts); the persister compares that with the rows it holds for the call and marks
-- the call complete or not, re-checking whenever a late event of the call arrives.
CREATE TABLE call_reconciliation (
  call_id UUID PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
  organization_id UUID NOT NULL,
  declared JSONB NOT NULL,
  observed JSONB NOT NULL DEFAULT '{}'::jsonb,
  complete BOOLEAN NOT NULL DEFAULT false,
  ended_at TIMESTAMPTZ NOT NULL,
  checked_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_call_reconciliation_incomplete ON call_reconciliation (ended_at) WHERE NOT complete;
CREATE INDEX idx_call_reconciliation_org ON call_reconciliation (organization_id);
