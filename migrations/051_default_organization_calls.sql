-- organizations.max_agents is each organization's concurrent-call limit (enforced by the
-- workers, src/worker/call-limit.ts). The default organization is the single-tenant
-- deployment's and development's: it starts with room for any number of calls this
-- deployment can carry; operators lower it like any other organization's.
-- Row-level security applies to the migrator too: scope the update to that organization.
SELECT set_config('app.organization_id', '00000000-0000-0000-0000-000000000001', true);
UPDATE organizations SET max_agents = 10000
 WHERE id = '00000000-0000-0000-0000-000000000001' AND max_agents = 1;
