package keys

import (
	"context"
	"errors"

	"github.com/securecart/securecart/internal/sqldb"
)

// Component is the name the keystore's migrations are recorded under.
const Component = "keystore"

// Migrations create the keystore's own tables. They are separate from the
// data tables and never written to the change log, so data backups carry no
// key material; the keystore is backed up on its own (Snapshot).
var Migrations = []sqldb.Migration{{
	Version: 1,
	Name:    "keystore tables",
	SQLite: `
CREATE TABLE ks_meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE ks_keks (
	domain INTEGER NOT NULL,
	version INTEGER NOT NULL,
	state INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	state_at INTEGER NOT NULL,
	root_id TEXT NOT NULL,
	wrapped BLOB,
	PRIMARY KEY (domain, version));
CREATE TABLE ks_data_keys (
	id INTEGER PRIMARY KEY,
	domain INTEGER NOT NULL,
	owner TEXT,
	kek_version INTEGER NOT NULL,
	wrapped BLOB,
	state INTEGER NOT NULL,
	seals_reserved INTEGER NOT NULL,
	created_at INTEGER NOT NULL);
CREATE INDEX ks_data_keys_owner ON ks_data_keys (owner);
CREATE INDEX ks_data_keys_kek ON ks_data_keys (domain, kek_version, id);
`,
	Postgres: `
CREATE TABLE ks_meta (name TEXT PRIMARY KEY, value BYTEA NOT NULL);
CREATE TABLE ks_keks (
	domain INTEGER NOT NULL,
	version INTEGER NOT NULL,
	state INTEGER NOT NULL,
	created_at BIGINT NOT NULL,
	state_at BIGINT NOT NULL,
	root_id TEXT NOT NULL,
	wrapped BYTEA,
	PRIMARY KEY (domain, version));
CREATE TABLE ks_data_keys (
	id BIGINT PRIMARY KEY,
	domain INTEGER NOT NULL,
	owner TEXT,
	kek_version INTEGER NOT NULL,
	wrapped BYTEA,
	state INTEGER NOT NULL,
	seals_reserved BIGINT NOT NULL,
	created_at BIGINT NOT NULL);
CREATE INDEX ks_data_keys_owner ON ks_data_keys (owner);
CREATE INDEX ks_data_keys_kek ON ks_data_keys (domain, kek_version, id);
`,
}}

// Meta is the keystore's MetaStore over db.
type Meta struct{ DB sqldb.DB }

// GetMeta reads a meta value.
func (m Meta) GetMeta(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := m.DB.Read(ctx, func(tx sqldb.Tx) error {
		return tx.QueryRow(ctx, "SELECT value FROM ks_meta WHERE name = ?", name).Scan(&v)
	})
	if errors.Is(err, sqldb.ErrNoRows) {
		return nil, ErrNoMeta
	}
	return v, err
}

// PutMeta writes a meta value durably.
func (m Meta) PutMeta(ctx context.Context, name string, value []byte) error {
	return m.DB.Write(ctx, func(tx sqldb.Tx) error {
		return putMeta(ctx, tx, name, value)
	})
}

func putMeta(ctx context.Context, tx sqldb.Tx, name string, value []byte) error {
	if _, err := tx.Exec(ctx, "DELETE FROM ks_meta WHERE name = ?", name); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, "INSERT INTO ks_meta (name, value) VALUES (?, ?)", name, value)
	return err
}

// DeleteMeta removes a meta value.
func (m Meta) DeleteMeta(ctx context.Context, name string) error {
	return m.DB.Write(ctx, func(tx sqldb.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM ks_meta WHERE name = ?", name)
		return err
	})
}

// RootID returns the check value of the root key that db's keystore is
// wrapped under, or ErrNoMeta for a keystore never opened.
func RootID(ctx context.Context, db sqldb.DB) (string, error) {
	if err := db.Migrate(ctx, Component, Migrations); err != nil {
		return "", err
	}
	v, err := Meta{db}.GetMeta(ctx, metaRootID)
	return string(v), err
}
