package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/securecart/securecart/internal/sqldb"
)

// Change is one record of the change log.
type Change struct {
	Pos   int64
	At    time.Time
	Table string
	Key   string
	// Op is "insert", "update" or "delete".
	Op string
	// After is the row after the change as JSON, with sealed fields still
	// sealed (base64 envelopes); nil for a delete.
	After json.RawMessage
}

func encodeRow(row any) ([]byte, error) {
	b, err := json.Marshal(row)
	if err != nil {
		return nil, fmt.Errorf("encode change: %w", err)
	}
	return b, nil
}

// MaxChangesRead bounds one ReadChanges call.
const MaxChangesRead = 10000

// ReadChanges returns up to limit change records after position after, in
// order. Positions have no gaps, so a follower that asks again from the last
// position it saw never misses a committed change.
func (s *Store) ReadChanges(ctx context.Context, after int64, limit int) ([]Change, error) {
	if limit <= 0 || limit > MaxChangesRead {
		limit = MaxChangesRead
	}
	var out []Change
	err := s.db.Read(ctx, func(tx sqldb.Tx) error {
		rs, err := tx.Query(ctx, "SELECT pos, at, tbl, row_key, op, after FROM change_log"+
			" WHERE pos > ? ORDER BY pos LIMIT ?", after, limit)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var c Change
			var at int64
			var after []byte
			if err := rs.Scan(&c.Pos, &at, &c.Table, &c.Key, &c.Op, &after); err != nil {
				return err
			}
			c.At = sqldb.FromMicros(at)
			if after != nil {
				c.After = after
			}
			out = append(out, c)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read changes: %w", err)
	}
	return out, nil
}

// ChangeHead returns the last position written and the last pruned.
func (s *Store) ChangeHead(ctx context.Context) (head, pruned int64, err error) {
	err = s.db.Read(ctx, func(tx sqldb.Tx) error {
		return tx.QueryRow(ctx, "SELECT pos, pruned FROM change_head WHERE id = 1").Scan(&head, &pruned)
	})
	return head, pruned, err
}

// PruneChanges deletes the records up to and including position upTo, once
// they have been shipped. It returns how many it removed.
func (s *Store) PruneChanges(ctx context.Context, upTo int64) (int64, error) {
	var n int64
	err := s.db.Write(ctx, func(tx sqldb.Tx) error {
		var head int64
		if err := tx.QueryRow(ctx, "SELECT pos FROM change_head WHERE id = 1").Scan(&head); err != nil {
			return err
		}
		upTo = min(upTo, head)
		var err error
		if n, err = tx.Exec(ctx, "DELETE FROM change_log WHERE pos <= ?", upTo); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE change_head SET pruned = ? WHERE id = 1 AND pruned < ?", upTo, upTo)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune changes: %w", err)
	}
	return n, nil
}
