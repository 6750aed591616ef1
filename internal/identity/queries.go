package identity

// The queries that run in read transactions.
const (
	principalCols = "id, name, kind, roles, created_at, COALESCE(disabled_at, 0)"
	keyCols       = "id, principal_id, prefix, created_at, COALESCE(expires_at, 0)," +
		" COALESCE(revoked_at, 0), COALESCE(last_used_at, 0)"

	qPrincipal       = "SELECT " + principalCols + " FROM identity_principals WHERE id = ?"
	qPrincipals      = "SELECT " + principalCols + " FROM identity_principals ORDER BY name"
	qCountPrincipals = "SELECT COUNT(*) FROM identity_principals"
	qKeysOf          = "SELECT " + keyCols + " FROM identity_api_keys WHERE principal_id = ?" +
		" ORDER BY created_at, id"
	qAllKeys = "SELECT " + keyCols + " FROM identity_api_keys ORDER BY created_at, id"
	// qAuthenticate selects the principal's columns, then the key's.
	qAuthenticate = "SELECT p.id, p.name, p.kind, p.roles, p.created_at," +
		" COALESCE(p.disabled_at, 0), k.hash, COALESCE(k.expires_at, 0)," +
		" COALESCE(k.revoked_at, 0), COALESCE(k.last_used_at, 0)" +
		" FROM identity_api_keys k JOIN identity_principals p ON p.id = k.principal_id" +
		" WHERE k.id = ?"
)
