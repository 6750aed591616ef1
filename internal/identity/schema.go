package identity

import "github.com/securecart/securecart/internal/sqldb"

// Component is the name the directory's migrations are recorded under.
const Component = "identity"

// Migrations create the directory's tables. Times are Unix microseconds;
// NULL means "not yet" (not disabled, no expiry, not revoked, never used).
// Roles are stored as a sorted, comma-separated list.
var Migrations = []sqldb.Migration{{
	Version: 1,
	Name:    "principals and api keys",
	SQLite: `
CREATE TABLE identity_principals (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	kind TEXT NOT NULL,
	roles TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	disabled_at INTEGER);
CREATE TABLE identity_api_keys (
	id TEXT PRIMARY KEY,
	principal_id TEXT NOT NULL REFERENCES identity_principals (id),
	prefix TEXT NOT NULL UNIQUE,
	hash BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER,
	revoked_at INTEGER,
	last_used_at INTEGER);
CREATE INDEX identity_api_keys_principal ON identity_api_keys (principal_id);
`,
	Postgres: `
CREATE TABLE identity_principals (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	kind TEXT NOT NULL,
	roles TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	disabled_at BIGINT);
CREATE TABLE identity_api_keys (
	id TEXT PRIMARY KEY,
	principal_id TEXT NOT NULL REFERENCES identity_principals (id),
	prefix TEXT NOT NULL UNIQUE,
	hash BYTEA NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT,
	revoked_at BIGINT,
	last_used_at BIGINT);
CREATE INDEX identity_api_keys_principal ON identity_api_keys (principal_id);
`,
}}
