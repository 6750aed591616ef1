// Package sqldbtest opens fresh databases of each engine for tests.
//
// SQLite always runs. PostgreSQL runs when SECURECART_TEST_POSTGRES_DSN names
// a database; each test then gets a schema of its own, dropped at the end.
// Without the variable, the PostgreSQL cases are skipped with a message that
// says so.
package sqldbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/postgres"
	"github.com/securecart/securecart/internal/sqldb/sqlite"
)

// DSNVar is the environment variable that enables the PostgreSQL cases.
const DSNVar = "SECURECART_TEST_POSTGRES_DSN"

// Engine opens fresh databases of one engine.
type Engine struct {
	Name string
	// Open returns a new, empty database. Calling Reopen on it gives a
	// second handle to the same database (as after a restart).
	Open func(t testing.TB) *Handle
}

// Handle is an open test database.
type Handle struct {
	sqldb.DB
	// Reopen closes nothing; it opens another handle to the same database.
	Reopen func(t testing.TB) sqldb.DB
	// Path is the SQLite file, or the PostgreSQL DSN with its schema.
	Path string
}

// Engines returns SQLite and, when configured, PostgreSQL.
func Engines() []Engine {
	return []Engine{{Name: sqldb.SQLite, Open: OpenSQLite}, {Name: sqldb.Postgres, Open: OpenPostgres}}
}

// OpenSQLite opens a new SQLite database in a temporary directory.
func OpenSQLite(t testing.TB) *Handle {
	t.Helper()
	path := filepath.Join(t.TempDir(), "securecart.db")
	open := func(t testing.TB) sqldb.DB {
		t.Helper()
		db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	return &Handle{DB: open(t), Reopen: open, Path: path}
}

// PostgresDSN returns the configured DSN or skips t.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(DSNVar)
	if dsn == "" {
		t.Skip("PostgreSQL tests skipped: set " + DSNVar + " (e.g. postgres://postgres@127.0.0.1:5432/test) to run them")
	}
	return dsn
}

// OpenPostgres opens a fresh schema in the configured PostgreSQL database,
// or skips t.
func OpenPostgres(t testing.TB) *Handle {
	t.Helper()
	base := PostgresDSN(t)
	ctx := context.Background()
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])

	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", DSNVar, err)
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})

	dsn := WithSearchPath(base, schema)
	open := func(t testing.TB) sqldb.DB {
		t.Helper()
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	return &Handle{DB: open(t), Reopen: open, Path: dsn}
}

// WithSearchPath adds a search_path to a URL or key=value DSN.
func WithSearchPath(dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " search_path=" + schema
}
