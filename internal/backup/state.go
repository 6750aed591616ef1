package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

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
	return setState(ctx, db, stateShipped, strconv.FormatInt(pos, 10))
}

func setState(ctx context.Context, db sqldb.DB, name, v string) error {
	return db.Write(ctx, func(tx sqldb.Tx) error {
		n, err := tx.Exec(ctx, "UPDATE backup_state SET value = ? WHERE name = ?", v, name)
		if err == nil && n == 0 {
			_, err = tx.Exec(ctx, "INSERT INTO backup_state (name, value) VALUES (?, ?)", name, v)
		}
		return err
	})
}

const stateVerify = "last_verify"

// VerifyRecord is the outcome of the last verification, kept in the
// database so that the schedule and the status survive a restart.
type VerifyRecord struct {
	At      time.Time    `json:"at"`
	Pos     int64        `json:"pos"`
	OK      bool         `json:"ok"`
	Error   string       `json:"error,omitempty"`
	Elapsed float64      `json:"elapsed_seconds"`
	Tables  []TableCheck `json:"tables,omitempty"`
}

// LastVerify returns the last verification recorded in db, or nil.
func LastVerify(ctx context.Context, db sqldb.DB) (*VerifyRecord, error) {
	if err := db.Migrate(ctx, Component, Migrations); err != nil {
		return nil, fmt.Errorf("backup state: %w", err)
	}
	var v string
	err := db.Read(ctx, func(tx sqldb.Tx) error {
		return tx.QueryRow(ctx, "SELECT value FROM backup_state WHERE name = ?", stateVerify).Scan(&v)
	})
	if errors.Is(err, sqldb.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("backup state: %w", err)
	}
	var rec VerifyRecord
	if err := json.Unmarshal([]byte(v), &rec); err != nil {
		return nil, fmt.Errorf("backup state: last verification: %w", err)
	}
	return &rec, nil
}

// recordVerify stores a verification's outcome in db.
func recordVerify(ctx context.Context, db sqldb.DB, rec VerifyRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return setState(ctx, db, stateVerify, string(b))
}
