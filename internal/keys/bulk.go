package keys

import (
	"context"
	"strings"

	"github.com/securecart/securecart/internal/sqldb"
)

// Bulk writes of data keys. SQLite runs in-process, so a prepared statement
// per row is fastest there; PostgreSQL would pay a round trip per row, so it
// gets the whole batch as arrays in one statement.

// dataKeyRow is a data key on its way to the database.
type dataKeyRow struct {
	id      uint64
	owner   string // empty for a pooled key
	wrapped []byte
}

func (k *Keystore) insertDataKeys(ctx context.Context, d Domain, kekVersion uint32, rows []dataKeyRow, reserve int64) error {
	now := sqldb.Micros(k.cfg.Now())
	return k.db.Write(ctx, func(tx sqldb.Tx) error {
		if err := lockActiveKEK(ctx, tx, d, kekVersion); err != nil {
			return err
		}
		if k.db.Engine() == sqldb.Postgres {
			ids := make([]int64, len(rows))
			owners := make([]*string, len(rows))
			wrapped := make([][]byte, len(rows))
			for i := range rows {
				ids[i], wrapped[i] = int64(rows[i].id), rows[i].wrapped
				if rows[i].owner != "" {
					owners[i] = &rows[i].owner
				}
			}
			_, err := tx.Exec(ctx, "INSERT INTO ks_data_keys (id, domain, owner, kek_version, wrapped, state,"+
				" seals_reserved, created_at) SELECT u.id, ?, u.owner, ?, u.wrapped, ?, ?, ?"+
				" FROM unnest(?::bigint[], ?::text[], ?::bytea[]) AS u(id, owner, wrapped)",
				int64(d), int64(kekVersion), int64(Active), reserve, now, ids, owners, wrapped)
			return err
		}
		// Many rows per statement: SQLite runs in-process, but each
		// statement still costs a bind and a step.
		const perStmt = 64
		for start := 0; start < len(rows); start += perStmt {
			chunk := rows[start:min(start+perStmt, len(rows))]
			args := make([]any, 0, len(chunk)*8)
			for _, r := range chunk {
				var owner any
				if r.owner != "" {
					owner = r.owner
				}
				args = append(args, int64(r.id), int64(d), owner, int64(kekVersion), r.wrapped,
					int64(Active), reserve, now)
			}
			values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?), ", len(chunk)), ", ")
			_, err := tx.Exec(ctx, "INSERT INTO ks_data_keys (id, domain, owner, kek_version, wrapped, state,"+
				" seals_reserved, created_at) VALUES "+values, args...)
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// updateWrapped stores re-wrapped keys, each only if it is still under the
// version it was read with and not destroyed meanwhile. It returns how many
// rows changed.
func (k *Keystore) updateWrapped(ctx context.Context, target uint32, batch []rewrapRow) (int64, error) {
	var n int64
	err := k.db.Write(ctx, func(tx sqldb.Tx) error {
		n = 0
		if k.db.Engine() == sqldb.Postgres {
			ids := make([]int64, len(batch))
			olds := make([]int64, len(batch))
			wrapped := make([][]byte, len(batch))
			for i, r := range batch {
				ids[i], olds[i], wrapped[i] = r.id, r.version, r.wrapped
			}
			var err error
			n, err = tx.Exec(ctx, "UPDATE ks_data_keys AS d SET wrapped = u.wrapped, kek_version = ?"+
				" FROM unnest(?::bigint[], ?::bigint[], ?::bytea[]) AS u(id, old, wrapped)"+
				" WHERE d.id = u.id AND d.kek_version = u.old AND d.state <> ?",
				int64(target), ids, olds, wrapped, int64(Destroyed))
			return err
		}
		const perStmt = 100
		for start := 0; start < len(batch); start += perStmt {
			chunk := batch[start:min(start+perStmt, len(batch))]
			args := make([]any, 0, 2+len(chunk)*3)
			args = append(args, int64(target))
			for _, r := range chunk {
				args = append(args, r.id, r.version, r.wrapped)
			}
			args = append(args, int64(Destroyed))
			values := strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", len(chunk)), ", ")
			c, err := tx.Exec(ctx, "UPDATE ks_data_keys SET wrapped = u.column3, kek_version = ?"+
				" FROM (VALUES "+values+") AS u WHERE ks_data_keys.id = u.column1"+
				" AND ks_data_keys.kek_version = u.column2 AND ks_data_keys.state <> ?", args...)
			if err != nil {
				return err
			}
			n += c
		}
		return nil
	})
	return n, err
}
