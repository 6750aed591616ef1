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
}, {
	Version:  2,
	Name:     "sign-in: passwords, totp, recovery codes, sessions, customer tokens",
	SQLite:   signInTables("INTEGER", "BLOB"),
	Postgres: signInTables("BIGINT", "BYTEA"),
}}

// signInTables are the tables of sign-in, with the engine's names for a
// 64-bit integer and a byte string. A credentials row exists once a
// person has a password or has begun TOTP enrolment; failures and
// locked_until are the lockout state of the account.
func signInTables(integer, bytes string) string {
	return `
CREATE TABLE identity_credentials (
	principal_id TEXT PRIMARY KEY REFERENCES identity_principals (id),
	password_hash TEXT,
	totp_secret TEXT,
	totp_pending TEXT,
	totp_confirmed_at ` + integer + `,
	totp_last_step ` + integer + ` NOT NULL DEFAULT 0,
	failures ` + integer + ` NOT NULL DEFAULT 0,
	locked_until ` + integer + `);
CREATE TABLE identity_recovery_codes (
	principal_id TEXT NOT NULL REFERENCES identity_principals (id),
	hash ` + bytes + ` NOT NULL,
	used_at ` + integer + `,
	PRIMARY KEY (principal_id, hash));
CREATE TABLE identity_sessions (
	hash ` + bytes + ` PRIMARY KEY,
	principal_id TEXT NOT NULL REFERENCES identity_principals (id),
	created_at ` + integer + ` NOT NULL,
	last_seen_at ` + integer + ` NOT NULL,
	expires_at ` + integer + ` NOT NULL,
	revoked_at ` + integer + `);
CREATE INDEX identity_sessions_principal ON identity_sessions (principal_id);
CREATE TABLE identity_customer_tokens (
	hash ` + bytes + ` PRIMARY KEY,
	customer_id TEXT NOT NULL,
	issued_by TEXT NOT NULL,
	created_at ` + integer + ` NOT NULL,
	expires_at ` + integer + ` NOT NULL);
`
}
