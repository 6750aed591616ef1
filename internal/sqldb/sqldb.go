// Package sqldb is the small SQL surface that SecureCart's store and keystore
// are written against, so that each query is written once and runs on both
// engines: SQLite (package sqldb/sqlite, the embedded default) and PostgreSQL
// (package sqldb/postgres).
//
// Queries use '?' placeholders; the PostgreSQL engine rewrites them to $n.
// Both engines accept the same column types through Scan: int64, string,
// []byte and bool. Times are stored as Unix microseconds in BIGINT columns so
// that both engines round-trip them exactly.
//
// # Durability
//
// Write runs a function in a read-write transaction and returns only after
// the commit is durable. SQLite has one writer, so the SQLite engine queues
// concurrent writes and commits them together (group commit): each function
// runs inside its own savepoint, and one fsync covers the batch. A function
// that fails is rolled back to its savepoint without touching the others.
// Functions passed to Write must therefore do only database work: no network
// calls, no sleeping, nothing that waits on another Write. A function may
// run more than once before its write commits (when another write in its
// batch fails, the batch runs again without it), so it must compute
// everything it hands back from its last run.
package sqldb

import (
	"context"
	"errors"
	"time"
)

// Engine names.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// ErrNoRows is returned by Row.Scan when the query matched nothing.
var ErrNoRows = errors.New("sqldb: no rows")

// DB is a database that SecureCart's store and keystore run on.
type DB interface {
	// Engine returns SQLite or Postgres.
	Engine() string
	// Write runs fn in a read-write transaction and commits it durably.
	// If fn returns an error, its changes are rolled back and Write returns
	// that error unchanged.
	Write(ctx context.Context, fn func(Tx) error) error
	// Read runs fn in a read-only transaction with one consistent snapshot.
	Read(ctx context.Context, fn func(Tx) error) error
	// QueryRow runs one read-only statement outside an explicit
	// transaction. A single statement sees one consistent snapshot on both
	// engines, and skipping BEGIN and COMMIT makes a point read cheaper.
	QueryRow(ctx context.Context, query string, args ...any) Row
	// Migrate brings the schema of component up to the last migration.
	Migrate(ctx context.Context, component string, migrations []Migration) error
	// Close releases the database.
	Close() error
}

// Tx is a transaction.
type Tx interface {
	Exec(ctx context.Context, query string, args ...any) (rowsAffected int64, err error)
	// ExecBatch runs independent statements in order and returns the rows
	// each affected. PostgreSQL sends them in one round trip.
	ExecBatch(ctx context.Context, stmts ...Stmt) ([]int64, error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Stmt is a statement with its arguments.
type Stmt struct {
	Query string
	Args  []any
}

// Rows iterates over a query's result.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is a single-row result.
type Row interface {
	// Scan copies the row's columns into dest, or returns ErrNoRows.
	Scan(dest ...any) error
}

// Migration is one versioned schema change, written once for each engine.
// Versions of a component start at 1 and have no gaps.
type Migration struct {
	Version  int
	Name     string
	SQLite   string
	Postgres string
}

// SQL returns the migration's statements for engine.
func (m Migration) SQL(engine string) string {
	if engine == Postgres {
		return m.Postgres
	}
	return m.SQLite
}

// Micros converts t to the stored form of a time.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// FromMicros converts a stored time back, in UTC.
func FromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// IsUniqueViolation reports whether err is a unique or primary-key
// constraint failure on either engine.
func IsUniqueViolation(err error) bool {
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		return pg.SQLState() == "23505"
	}
	var lite interface{ Code() int }
	if errors.As(err, &lite) {
		// SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY.
		return lite.Code() == 2067 || lite.Code() == 1555
	}
	return false
}
