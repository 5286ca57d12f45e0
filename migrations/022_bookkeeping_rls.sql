-- Reconciliation verdicts and re-dispatch aliases are per call, so per organization like every
-- other tenant table (migrations 020 and 021 came after 010's sweep): the persister reads and
-- writes them inside the organization-scoped transaction of the calls they describe.
SELECT enable_tenant_rls('call_reconciliation');
SELECT enable_tenant_rls('call_aliases');
GRANT SELECT, INSERT, UPDATE ON call_reconciliation TO voice_persister;
GRANT SELECT, INSERT ON call_aliases TO voice_persister;
GRANT SELECT ON call_reconciliation, call_aliases TO voice_admin_api;
