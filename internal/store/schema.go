package store

import "github.com/securecart/securecart/internal/sqldb"

// Component is the name the store's migrations are recorded under.
const Component = "store"

// Migrations are the store's schema versions, oldest first. Never edit one
// that has shipped; add the next.
var Migrations = []sqldb.Migration{
	{
		Version: 1,
		Name:    "customers and products",
		SQLite: `
CREATE TABLE customers (
	id TEXT PRIMARY KEY,
	name BLOB NOT NULL,
	email BLOB NOT NULL,
	phone BLOB NOT NULL,
	address BLOB NOT NULL,
	email_bidx BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	last_activity INTEGER NOT NULL,
	version INTEGER NOT NULL);
CREATE UNIQUE INDEX customers_email_bidx ON customers (email_bidx);
CREATE TABLE products (
	id TEXT PRIMARY KEY,
	sku TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	description TEXT NOT NULL,
	price INTEGER NOT NULL,
	currency TEXT NOT NULL,
	stock INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version INTEGER NOT NULL);
`,
		Postgres: `
CREATE TABLE customers (
	id TEXT PRIMARY KEY,
	name BYTEA NOT NULL,
	email BYTEA NOT NULL,
	phone BYTEA NOT NULL,
	address BYTEA NOT NULL,
	email_bidx BYTEA NOT NULL,
	created_at BIGINT NOT NULL,
	last_activity BIGINT NOT NULL,
	version BIGINT NOT NULL);
CREATE UNIQUE INDEX customers_email_bidx ON customers (email_bidx);
CREATE TABLE products (
	id TEXT PRIMARY KEY,
	sku TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	description TEXT NOT NULL,
	price BIGINT NOT NULL,
	currency TEXT NOT NULL,
	stock BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	version BIGINT NOT NULL);
`,
	},
	{
		Version: 2,
		Name:    "orders",
		SQLite: `
CREATE TABLE orders (
	id TEXT PRIMARY KEY,
	customer_id TEXT NOT NULL,
	lines TEXT NOT NULL,
	total INTEGER NOT NULL,
	currency TEXT NOT NULL,
	status TEXT NOT NULL,
	payment_token TEXT NOT NULL,
	notes BLOB,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version INTEGER NOT NULL);
CREATE INDEX orders_customer ON orders (customer_id, id);
`,
		Postgres: `
CREATE TABLE orders (
	id TEXT PRIMARY KEY,
	customer_id TEXT NOT NULL,
	lines TEXT NOT NULL,
	total BIGINT NOT NULL,
	currency TEXT NOT NULL,
	status TEXT NOT NULL,
	payment_token TEXT NOT NULL,
	notes BYTEA,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	version BIGINT NOT NULL);
CREATE INDEX orders_customer ON orders (customer_id, id);
`,
	},
	{
		Version: 3,
		Name:    "change log",
		SQLite: `
CREATE TABLE change_log (
	pos INTEGER PRIMARY KEY,
	at INTEGER NOT NULL,
	tbl TEXT NOT NULL,
	row_key TEXT NOT NULL,
	op TEXT NOT NULL,
	after BLOB);
CREATE TABLE change_head (id INTEGER PRIMARY KEY CHECK (id = 1), pos INTEGER NOT NULL, pruned INTEGER NOT NULL);
INSERT INTO change_head (id, pos, pruned) VALUES (1, 0, 0);
`,
		Postgres: `
CREATE TABLE change_log (
	pos BIGINT PRIMARY KEY,
	at BIGINT NOT NULL,
	tbl TEXT NOT NULL,
	row_key TEXT NOT NULL,
	op TEXT NOT NULL,
	after BYTEA);
CREATE TABLE change_head (id INTEGER PRIMARY KEY CHECK (id = 1), pos BIGINT NOT NULL, pruned BIGINT NOT NULL);
INSERT INTO change_head (id, pos, pruned) VALUES (1, 0, 0);
`,
	},
	{
		Version: 4,
		Name:    "blind-index version column",
		SQLite: `
ALTER TABLE customers ADD COLUMN email_bidx_version INTEGER NOT NULL DEFAULT 1;
CREATE INDEX customers_bidx_version ON customers (email_bidx_version);
`,
		Postgres: `
ALTER TABLE customers ADD COLUMN email_bidx_version INTEGER NOT NULL DEFAULT 1;
CREATE INDEX customers_bidx_version ON customers (email_bidx_version);
`,
	},
	{
		Version: 5,
		Name:    "idempotency keys",
		SQLite: `
CREATE TABLE idempotency (
	principal TEXT NOT NULL,
	idem_key TEXT NOT NULL,
	request_hash BLOB NOT NULL,
	resource_id TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (principal, idem_key));
CREATE INDEX idempotency_created ON idempotency (created_at);
`,
		Postgres: `
CREATE TABLE idempotency (
	principal TEXT NOT NULL,
	idem_key TEXT NOT NULL,
	request_hash BYTEA NOT NULL,
	resource_id TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (principal, idem_key));
CREATE INDEX idempotency_created ON idempotency (created_at);
`,
	},
	{
		Version: 6,
		Name:    "payment vault",
		SQLite: `
CREATE TABLE vault_cards (
	id TEXT PRIMARY KEY,
	fingerprint BLOB NOT NULL,
	brand TEXT NOT NULL,
	first6 TEXT NOT NULL,
	last4 TEXT NOT NULL,
	pan BLOB NOT NULL,
	expiry BLOB NOT NULL,
	holder BLOB,
	single_use INTEGER NOT NULL,
	used_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	created_by TEXT NOT NULL);
CREATE INDEX vault_cards_fingerprint ON vault_cards (fingerprint);
`,
		Postgres: `
CREATE TABLE vault_cards (
	id TEXT PRIMARY KEY,
	fingerprint BYTEA NOT NULL,
	brand TEXT NOT NULL,
	first6 TEXT NOT NULL,
	last4 TEXT NOT NULL,
	pan BYTEA NOT NULL,
	expiry BYTEA NOT NULL,
	holder BYTEA,
	single_use BIGINT NOT NULL,
	used_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	created_by TEXT NOT NULL);
CREATE INDEX vault_cards_fingerprint ON vault_cards (fingerprint);
`,
	},
	{
		// The sweep of dead tokens reads these; only tokens with a time to
		// live or a use are indexed, so other tokens cost nothing more.
		Version: 7,
		Name:    "vault token sweep",
		SQLite: `
CREATE INDEX vault_cards_expires ON vault_cards (expires_at) WHERE expires_at > 0;
CREATE INDEX vault_cards_used ON vault_cards (used_at) WHERE used_at > 0;
`,
		Postgres: `
CREATE INDEX vault_cards_expires ON vault_cards (expires_at) WHERE expires_at > 0;
CREATE INDEX vault_cards_used ON vault_cards (used_at) WHERE used_at > 0;
`,
	},
}
