package backup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/store"
)

// ErrNotInBackup means the record did not exist at the requested point,
// or its fields no longer open there because its key was destroyed.
var ErrNotInBackup = errors.New("backup: the record is not in the backups at that point")

// RecordTables are the tables RestoreRecord brings records back into.
var RecordTables = []string{"customers"}

// RecordResult says what RestoreRecord did.
type RecordResult struct {
	Table string `json:"table"`
	ID    string `json:"id"`
	// AsOf is the requested point; Pos and LastChange the change position
	// the backups were restored to and that change's commit time.
	AsOf       time.Time `json:"as_of"`
	Pos        int64     `json:"pos"`
	LastChange time.Time `json:"last_change"`
	// Created is true when the live row was gone and was inserted again,
	// false when the live row was overwritten.
	Created bool `json:"created"`
	// Version is the live record's version afterwards.
	Version int64 `json:"version"`
}

// ParseRecord splits "table/id" and checks the table is one RestoreRecord
// serves.
func ParseRecord(s string) (table, id string, err error) {
	table, id, ok := strings.Cut(s, "/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", "", fmt.Errorf("record %q: want TABLE/ID, such as customers/cus_123", s)
	}
	for _, t := range RecordTables {
		if t == table {
			return table, id, nil
		}
	}
	return "", "", fmt.Errorf("record %q: only %s records can be restored", s, strings.Join(RecordTables, ", "))
}

// RestoreRecord brings one record back into the live store as it was at
// asOf: it restores the backups to asOf into a scratch database, reads
// the record there with the restored keys, and writes it over the live
// record, or inserts it again if the live row is gone. The write is an
// ordinary store write, with its change record, so it is shipped like any
// other. A customer erased since (its key destroyed) stays erased:
// store.ErrErased.
func (r *Runner) RestoreRecord(ctx context.Context, table, id string, asOf time.Time) (RecordResult, error) {
	res := RecordResult{Table: table, ID: id, AsOf: asOf}
	if _, _, err := ParseRecord(table + "/" + id); err != nil {
		return res, err
	}
	if asOf.IsZero() || asOf.After(r.sh.now()) {
		return res, fmt.Errorf("restore record: the point %s is not in the past", asOf.Format(time.RFC3339))
	}
	r.verifyMu.Lock()
	defer r.verifyMu.Unlock()
	if r.opts.Scratch == nil || r.opts.Provider == nil {
		return res, errors.New("restore record: no scratch database configured")
	}
	// Everything committed up to now must be in storage, or the restore
	// could stop short of asOf without knowing.
	if _, err := r.sh.ShipOnce(ctx); err != nil {
		return res, fmt.Errorf("restore record: ship pending changes: %w", err)
	}
	db, drop, err := r.opts.Scratch(ctx)
	if err != nil {
		return res, fmt.Errorf("restore record: scratch database: %w", err)
	}
	defer drop()
	sum, err := Restore(ctx, RestoreOptions{Objects: r.obj, Deployment: r.sh.id, To: asOf, Target: db,
		Provider: r.opts.Provider})
	if err != nil {
		return res, fmt.Errorf("restore record: %w", err)
	}
	res.Pos, res.LastChange = sum.Pos, sum.LastChange

	p, err := r.opts.Provider(db)
	if err != nil {
		return res, err
	}
	ks, err := keys.Open(ctx, db, p, keys.Config{})
	if err != nil {
		return res, fmt.Errorf("restore record: open the restored keystore: %w", err)
	}
	defer ks.Close()
	old, err := store.Open(ctx, db, ks)
	if err != nil {
		return res, fmt.Errorf("restore record: %w", err)
	}
	c, err := old.GetCustomer(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return res, fmt.Errorf("%w: %s/%s at %s", ErrNotInBackup, table, id, asOf.Format(time.RFC3339))
	}
	if err != nil {
		return res, fmt.Errorf("restore record: %w", err)
	}
	got, created, err := r.sh.st.PutBackCustomer(ctx, c)
	if err != nil {
		return res, fmt.Errorf("restore record %s/%s: %w", table, id, err)
	}
	res.Created, res.Version = created, got.Version
	return res, nil
}
