-- Every operation the worker asks of the telephony provider (seeds 000 and 003): livekit-sip's
-- CreateSIPParticipant (initiate), TransferSIPParticipant (transfer) and the room deletion
-- that hangs a SIP call up (hangup), with what was asked and answered — numbers masked,
-- credentials never included — its status, latency and error. Written by the persister from
-- `telephony` events; purged after TELEPHONY_LOG_RETENTION_DAYS (30, seed 003).
CREATE TABLE telephony_provider_logs (
  id UUID PRIMARY KEY,
  organization_id UUID NOT NULL REFERENCES organizations(id),
  conversation_id UUID NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  provider VARCHAR(50) NOT NULL,
  provider_call_id VARCHAR(255),
  operation VARCHAR(20) NOT NULL
    CHECK (operation IN ('initiate', 'connect', 'record', 'transfer', 'hangup', 'webhook')),
  request_payload JSONB NOT NULL DEFAULT '{}',
  response_payload JSONB,
  -- The provider's answer as an HTTP status (Twirp errors map to one; SIP codes are in the
  -- response payload).
  status_code INTEGER NOT NULL CHECK (status_code BETWEEN 100 AND 599),
  latency_ms INTEGER NOT NULL CHECK (latency_ms >= 0),
  success BOOLEAN NOT NULL,
  error_message TEXT,
  occurred_at TIMESTAMP WITH TIME ZONE NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  CONSTRAINT failure_has_error CHECK (success OR error_message IS NOT NULL)
);

CREATE INDEX idx_telephony_logs_conversation ON telephony_provider_logs (conversation_id, occurred_at);
CREATE INDEX idx_telephony_logs_occurred_at ON telephony_provider_logs (occurred_at);

SELECT enable_tenant_rls('telephony_provider_logs');

GRANT SELECT, INSERT, DELETE ON telephony_provider_logs TO voice_persister;
GRANT SELECT ON telephony_provider_logs TO voice_admin_api, voice_reporting;
