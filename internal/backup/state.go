package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/securecart/securecart/internal/sqldb"
)

// Component is the name the backup state's migrations are recorded under.
const Component = "backup"

// Migrations hold the shipper's state: the deployment id and the last
// shipped change position.
var Migrations = []sqldb.Migration{{
	Version:  1,
	Name:     "backup state",
	SQLite:   "CREATE TABLE backup_state (name TEXT PRIMARY KEY, value TEXT NOT NULL);\n",
	Postgres: "CREATE TABLE backup_state (name TEXT PRIMARY KEY, value TEXT NOT NULL);\n",
}}

const (
	stateDeployment = "deployment_id"
	stateShipped    = "shipped"
)

// DeploymentID returns db's deployment id, creating it on first use. The
// id names the deployment's folder in the backups bucket and is bound into
// every sealed backup object.
func DeploymentID(ctx context.Context, db sqldb.DB) (string, error) {
	if err := db.Migrate(ctx, Component, Migrations); err != nil {
		return "", fmt.Errorf("backup state: %w", err)
	}
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	fresh := hex.EncodeToString(b[:])
	var id string
	err := db.Write(ctx, func(tx sqldb.Tx) error {
		err := tx.QueryRow(ctx, "SELECT value FROM backup_state WHERE name = ?", stateDeployment).Scan(&id)
		if errors.Is(err, sqldb.ErrNoRows) {
			id = fresh
			_, err = tx.Exec(ctx, "INSERT INTO backup_state (name, value) VALUES (?, ?)", stateDeployment, id)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("backup state: %w", err)
	}
	return id, nil
}

func readShipped(ctx context.Context, db sqldb.DB) (int64, error) {
	var v string
	err := db.Read(ctx, func(tx sqldb.Tx) error {
		return tx.QueryRow(ctx, "SELECT value FROM backup_state WHERE name = ?", stateShipped).Scan(&v)
	})
	if errors.Is(err, sqldb.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("backup state: %w", err)
	}
	return strconv.ParseInt(v, 10, 64)
}

func writeShipped(ctx context.Context, db sqldb.DB, pos int64) error {
	return db.Write(ctx, func(tx sqldb.Tx) error {
		v := strconv.FormatInt(pos, 10)
		n, err := tx.Exec(ctx, "UPDATE backup_state SET value = ? WHERE name = ?", v, stateShipped)
		if err == nil && n == 0 {
			_, err = tx.Exec(ctx, "INSERT INTO backup_state (name, value) VALUES (?, ?)", stateShipped, v)
		}
		return err
	})
}
