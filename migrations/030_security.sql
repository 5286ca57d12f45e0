-- Security (issue 13 items 3 and 4): personal data sealed at rest, and the per-organization
-- outbound dialling policy.

-- Contact fields are stored sealed by the PII key ring (`enc2:<key id>:<base64>`), which is
-- longer than the clear value.
ALTER TABLE appointments ALTER COLUMN contact_info TYPE TEXT;

-- Outbound dialling: only numbers matching one of these E.164 patterns (`*` = any digits,
-- e.g. '+1555*'); NULL = the deployment's OUTBOUND_ALLOWLIST. Calls per minute; NULL = the
-- deployment's OUTBOUND_CALLS_PER_MINUTE.
ALTER TABLE organizations ADD COLUMN IF NOT EXISTS outbound_allowlist TEXT[];
ALTER TABLE organizations ADD COLUMN IF NOT EXISTS outbound_calls_per_minute INTEGER
  CHECK (outbound_calls_per_minute IS NULL OR outbound_calls_per_minute > 0);
