-- Callback requests are a tenant table: each organization sees only its own.
SELECT enable_tenant_rls('callback_requests');
