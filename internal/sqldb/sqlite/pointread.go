package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/securecart/securecart/internal/sqldb"
)

// Reads of one row on the hot path
//
// QueryRow(...).Scan goes through database/sql's statement, rows and
// conversion machinery, which costs a single-row read by key about as much
// as SQLite's own work. ReadRow runs such a read on a read connection's
// driver directly, with the statement prepared once per connection, and
// assigns the driver's values itself. It is still a read on the read pool:
// the same connections, the same snapshot rules, no cache of rows.

// rawStmts are the driver statements ReadRow prepared, one per read
// connection and query.
type rawStmts struct {
	mu sync.Mutex
	m  map[rawKey]driver.Stmt
}

type rawKey struct {
	conn  driver.Conn
	query string
}

// ReadRow runs query, which must return at most one row, on the read pool
// and scans that row into dest, or returns sqldb.ErrNoRows. Each dest is
// a *string, *[]byte, *int64 or *bool; a NULL is refused except into a
// *[]byte, which it leaves nil. It is QueryRow(ctx, query, args...).Scan(dest...)
// without database/sql's row machinery, for reads on the request path.
func (db *DB) ReadRow(ctx context.Context, query string, args []any, dest ...any) error {
	conn, err := db.reader.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite read: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		st, err := db.raw.stmt(ctx, dc.(driver.Conn), query)
		if err != nil {
			return err
		}
		return readRow(ctx, st, args, dest)
	})
}

func (r *rawStmts) stmt(ctx context.Context, dc driver.Conn, query string) (driver.Stmt, error) {
	k := rawKey{dc, query}
	r.mu.Lock()
	st, ok := r.m[k]
	r.mu.Unlock()
	if ok {
		return st, nil
	}

	// The connection is this caller's until Raw returns: no one else
	// prepares on it meanwhile.
	st, err := dc.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("sqlite read: prepare: %w", err)
	}
	r.mu.Lock()
	if r.m == nil {
		r.m = make(map[rawKey]driver.Stmt)
	}
	r.m[k] = st
	r.mu.Unlock()
	return st, nil
}

// close closes every statement; the connections are closed after.
func (r *rawStmts) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, st := range r.m {
		st.Close()
		delete(r.m, k)
	}
}

func readRow(ctx context.Context, st driver.Stmt, args []any, dest []any) error {
	var nbuf [4]driver.NamedValue
	named := nbuf[:0]
	for i, a := range args {
		named = append(named, driver.NamedValue{Ordinal: i + 1, Value: a})
	}
	rows, err := st.(driver.StmtQueryContext).QueryContext(ctx, named)
	if err != nil {
		return fmt.Errorf("sqlite read: %w", err)
	}
	defer rows.Close()

	if n := len(rows.Columns()); n != len(dest) {
		return fmt.Errorf("sqlite read: %d columns into %d destinations", n, len(dest))
	}
	var vbuf [12]driver.Value
	vals := vbuf[:0]
	for range dest {
		vals = append(vals, nil)
	}
	if err := rows.Next(vals); errors.Is(err, io.EOF) {
		return sqldb.ErrNoRows
	} else if err != nil {
		return fmt.Errorf("sqlite read: %w", err)
	}
	for i, d := range dest {
		if err := assign(d, vals[i]); err != nil {
			return fmt.Errorf("sqlite read: column %d: %w", i, err)
		}
	}
	return nil
}

// assign stores a driver value into one destination. The driver hands
// out blobs it copied for this row, so they are kept without another copy.
func assign(dest any, v driver.Value) error {
	switch d := dest.(type) {
	case *[]byte:
		switch v := v.(type) {
		case []byte:
			*d = v
		case string:
			*d = []byte(v)
		case nil:
			*d = nil
		default:
			return fmt.Errorf("cannot store %T in *[]byte", v)
		}
	case *string:
		switch v := v.(type) {
		case string:
			*d = v
		case []byte:
			*d = string(v)
		default:
			return fmt.Errorf("cannot store %T in *string", v)
		}
	case *int64:
		n, ok := v.(int64)
		if !ok {
			return fmt.Errorf("cannot store %T in *int64", v)
		}
		*d = n
	case *bool:
		n, ok := v.(int64)
		if !ok {
			return fmt.Errorf("cannot store %T in *bool", v)
		}
		*d = n != 0
	default:
		return fmt.Errorf("unsupported destination %T", dest)
	}
	return nil
}
