package backup

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/store"
)

// VerifyResult compares the live store with a restore of its backups at
// the same change position.
type VerifyResult struct {
	Pos     int64
	OK      bool
	Tables  []TableCheck
	Restore Summary
	At      time.Time
}

// TableCheck is one table's comparison.
type TableCheck struct {
	Table          string `json:"table"`
	LiveRows       int64  `json:"live_rows"`
	RestoredRows   int64  `json:"restored_rows"`
	LiveSHA256     string `json:"live_sha256"`
	RestoredSHA256 string `json:"restored_sha256"`
	Match          bool   `json:"match"`
}

// Verify reads the live store's row counts and content hashes at its
// current change position, waits up to wait for the backups to reach that
// position, restores them exactly up to it into o.Target (a scratch
// database) and compares. OK is true only when every table matches. The
// outcome, a failure included, is recorded in live for LastVerify.
func Verify(ctx context.Context, live sqldb.DB, o RestoreOptions, wait time.Duration) (VerifyResult, error) {
	res, err := verify(ctx, live, o, wait)
	if ctx.Err() != nil {
		return res, err
	}
	rec := VerifyRecord{At: res.At, Pos: res.Pos, OK: err == nil && res.OK, Tables: res.Tables,
		Elapsed: time.Since(res.At).Seconds()}
	if err != nil {
		rec.Error = err.Error()
	}
	if rerr := recordVerify(ctx, live, rec); rerr != nil && err == nil {
		err = fmt.Errorf("verify: record the result: %w", rerr)
	}
	return res, err
}

func verify(ctx context.Context, live sqldb.DB, o RestoreOptions, wait time.Duration) (VerifyResult, error) {
	start := time.Now().UTC()
	pos, want, err := store.Digest(ctx, live)
	if err != nil {
		return VerifyResult{At: start}, err
	}
	res := VerifyResult{Pos: pos, At: start}
	if err := waitShipped(ctx, o, pos, wait); err != nil {
		return res, err
	}
	o.ToPos, o.To = pos, time.Time{}
	if pos == 0 {
		o.ToPos = 0
	}
	res.Restore, err = Restore(ctx, o)
	if err != nil {
		return res, fmt.Errorf("verify: %w", err)
	}
	gotPos, got, err := store.Digest(ctx, o.Target)
	if err != nil {
		return res, err
	}
	res.OK = gotPos == pos
	for _, t := range store.BackupTables {
		w, g := want[t], got[t]
		c := TableCheck{Table: t, LiveRows: w.Rows, RestoredRows: g.Rows,
			LiveSHA256: hex.EncodeToString(w.SHA256[:]), RestoredSHA256: hex.EncodeToString(g.SHA256[:])}
		c.Match = w == g
		res.OK = res.OK && c.Match
		res.Tables = append(res.Tables, c)
	}
	return res, nil
}

// waitShipped waits until a snapshot or segment reaches pos.
func waitShipped(ctx context.Context, o RestoreOptions, pos int64, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		cat, err := ReadCatalog(ctx, o.Objects, o.Deployment)
		if err != nil {
			return err
		}
		reached := int64(-1)
		for _, s := range cat.Snapshots {
			reached = max(reached, s.Pos)
		}
		for _, s := range cat.Segments {
			reached = max(reached, s.Last)
		}
		if reached >= pos {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: shipped up to %d, the live store is at %d; is the shipper running?",
				ErrBehind, reached, pos)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
