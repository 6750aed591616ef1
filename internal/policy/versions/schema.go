package versions

import "github.com/securecart/securecart/internal/sqldb"

// Component is the name the store's migrations are recorded under.
const Component = "policies"

// Migrations create the table of policy set versions. Rows are only ever
// inserted. created_at is Unix microseconds; rollback_of is the version a
// rollback copied, 0 for an apply.
var Migrations = []sqldb.Migration{{
	Version: 1,
	Name:    "policy set versions",
	SQLite: `
CREATE TABLE policy_versions (
	version INTEGER PRIMARY KEY,
	source BLOB NOT NULL,
	digest TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	created_by TEXT NOT NULL,
	note TEXT NOT NULL,
	rollback_of INTEGER NOT NULL);
`,
	Postgres: `
CREATE TABLE policy_versions (
	version BIGINT PRIMARY KEY,
	source BYTEA NOT NULL,
	digest TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	created_by TEXT NOT NULL,
	note TEXT NOT NULL,
	rollback_of BIGINT NOT NULL);
`,
}}
