// Package postgres is the PostgreSQL engine of package sqldb, through pgx and
// its connection pool. It also serves PostgreSQL-compatible engines.
//
// Write transactions run at READ COMMITTED and rely on row locks for
// correctness; Read transactions run at REPEATABLE READ, read-only, so each
// sees one snapshot. Commits are durable as PostgreSQL's own settings make
// them (synchronous_commit on by default).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/securecart/securecart/internal/sqldb"
)

// migrationLock is the advisory lock key that serializes migrations across
// nodes.
const migrationLock = 0x5ec0ca27

// DB is a PostgreSQL database.
type DB struct {
	pool  *pgxpool.Pool
	binds sync.Map // query with '?' -> query with $n
}

// Open connects to the database at dsn (a URL or key=value string).
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: parse dsn: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	_, err = pool.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+sqldb.MigrationsTable+
		" (component TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,"+
		" applied_at BIGINT NOT NULL, PRIMARY KEY (component, version))")
	if err != nil && !isDuplicate(err) {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return &DB{pool: pool}, nil
}

// isDuplicate reports the error two nodes get when both create a table at once.
func isDuplicate(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "42P07")
}

// Engine returns sqldb.Postgres.
func (db *DB) Engine() string { return sqldb.Postgres }

// Pool returns the underlying pool, for tests and tools.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Write runs fn in a READ COMMITTED transaction and commits it.
func (db *DB) Write(ctx context.Context, fn func(sqldb.Tx) error) error {
	return db.run(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, fn)
}

// Read runs fn in a read-only REPEATABLE READ transaction.
func (db *DB) Read(ctx context.Context, fn func(sqldb.Tx) error) error {
	return db.run(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// QueryRow runs one statement on the pool, outside a transaction.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) sqldb.Row {
	return pgRow{db.pool.QueryRow(ctx, db.rebind(query), args...)}
}

func (db *DB) run(ctx context.Context, opts pgx.TxOptions, fn func(sqldb.Tx) error) error {
	ptx, err := db.pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer ptx.Rollback(context.WithoutCancel(ctx))
	if err := fn(&tx{db: db, tx: ptx}); err != nil {
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Migrate applies the component's pending migrations while holding an
// advisory lock, so nodes starting together do not race.
func (db *DB) Migrate(ctx context.Context, component string, ms []sqldb.Migration) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("migrate %s: lock: %w", component, err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock)
	return sqldb.ApplyMigrations(ctx, sqldb.Postgres, component, ms, db.Write)
}

// Close closes the pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// rebind rewrites '?' placeholders as $1, $2, ... outside quoted strings.
func (db *DB) rebind(q string) string {
	if v, ok := db.binds.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	n, quoted := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
			b.WriteByte(c)
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	out := b.String()
	db.binds.Store(q, out)
	return out
}

type tx struct {
	db *DB
	tx pgx.Tx
}

func (t *tx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, t.db.rebind(query), args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (t *tx) ExecBatch(ctx context.Context, stmts ...sqldb.Stmt) (out []int64, err error) {
	var b pgx.Batch
	for _, s := range stmts {
		b.Queue(t.db.rebind(s.Query), s.Args...)
	}
	br := t.tx.SendBatch(ctx, &b)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			out, err = nil, cerr
		}
	}()
	out = make([]int64, len(stmts))
	for i := range stmts {
		tag, err := br.Exec()
		if err != nil {
			return nil, err
		}
		out[i] = tag.RowsAffected()
	}
	return out, nil
}

func (t *tx) Query(ctx context.Context, query string, args ...any) (sqldb.Rows, error) {
	rows, err := t.tx.Query(ctx, t.db.rebind(query), args...)
	if err != nil {
		return nil, err
	}
	return pgRows{rows}, nil
}

func (t *tx) QueryRow(ctx context.Context, query string, args ...any) sqldb.Row {
	return pgRow{t.tx.QueryRow(ctx, t.db.rebind(query), args...)}
}

type pgRows struct{ pgx.Rows }

type pgRow struct{ r pgx.Row }

func (r pgRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return sqldb.ErrNoRows
	}
	return err
}
