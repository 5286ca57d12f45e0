-- How and when a business's customers are called (seed 003 leaves it to the platform):
-- the spoken business name, its zone, the days and hours calls may start, and its default
-- time budget. A business without a row is called Monday–Friday 09:00–20:00 Stockholm time.
CREATE TABLE survey_business_settings (
  organization_id UUID PRIMARY KEY REFERENCES organizations(id),
  business_name VARCHAR(100) CHECK (business_name IS NULL OR char_length(btrim(business_name)) > 0),
  time_zone VARCHAR(64) NOT NULL DEFAULT 'Europe/Stockholm',
  -- ISO weekdays: 1 = Monday … 7 = Sunday.
  calling_days SMALLINT[] NOT NULL DEFAULT '{1,2,3,4,5}'
    CHECK (cardinality(calling_days) > 0 AND calling_days <@ '{1,2,3,4,5,6,7}'::smallint[]),
  calling_from TIME NOT NULL DEFAULT '09:00',
  calling_until TIME NOT NULL DEFAULT '20:00',
  time_budget_seconds INTEGER NOT NULL DEFAULT 90 CHECK (time_budget_seconds BETWEEN 60 AND 120),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  CONSTRAINT calling_window CHECK (calling_from < calling_until)
);

SELECT enable_tenant_rls('survey_business_settings');

GRANT SELECT, INSERT, UPDATE, DELETE ON survey_business_settings TO voice_admin_api;
GRANT SELECT ON survey_business_settings TO voice_worker;
