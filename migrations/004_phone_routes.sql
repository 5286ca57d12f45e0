-- Per-call routes: which organization, flow and flow settings a dialled number (or trunk) gets.
-- Settings are validated by the flow package's own schema when the route is added.
CREATE TABLE phone_routes (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  number TEXT UNIQUE CHECK (number IS NULL OR number ~ '^\+[1-9][0-9]{1,14}$'),
  trunk_id TEXT,
  flow TEXT NOT NULL,
  settings JSONB NOT NULL DEFAULT '{}'::jsonb,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  CHECK (number IS NOT NULL OR trunk_id IS NOT NULL)
);
CREATE INDEX phone_routes_trunk ON phone_routes (trunk_id) WHERE trunk_id IS NOT NULL;
