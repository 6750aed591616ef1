// Package sqlite is the embedded SQLite engine of package sqldb, through the
// pure-Go driver modernc.org/sqlite.
//
// The database runs in WAL mode with synchronous=FULL, so a commit is on disk
// (WAL fsynced) before Write returns. One connection writes; concurrent
// writes queue and are committed together, so N concurrent writers share one
// fsync instead of paying one each. When a commit was shared, the writer
// waits up to a millisecond for the writers it released to come back with
// their next writes, so that they keep sharing commits instead of splitting
// into two groups that alternate; a lone writer never waits. Reads run on a
// separate pool of read-only connections and never wait for the writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/securecart/securecart/internal/sqldb"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// maxBatch bounds how many queued writes share one commit.
const maxBatch = 256

// After a commit that several writers shared, the writer waits a little for
// them to come back before it commits again: one fsync that covers all of
// them costs far less than two that each cover half. It waits until the
// batch holds as many writes as the last commit released plus those that
// queued while it ran, and only while writes keep arriving, at most
// gatherGap apart, for gatherMax at most. After a commit of a single write
// it does not wait at all, so a lone writer never pays for it.
const (
	gatherGap = 100 * time.Microsecond
	gatherMax = time.Millisecond
)

// Options tune an SQLite database.
type Options struct {
	// Readers is the size of the read pool (default 4).
	Readers int
}

// DB is an SQLite database.
type DB struct {
	path   string
	writer *sql.DB
	wconn  *sql.Conn
	reader *sql.DB

	wstmts    map[string]*sql.Stmt // used only by the writer goroutine
	rstmts    sync.Map             // query -> *sql.Stmt on the read pool
	preparing sync.Map             // queries being prepared for rstmts
	bgPrepare sync.WaitGroup       // prepareLater goroutines
	raw       rawStmts             // ReadRow's statements on the read pool

	queue   chan *writeReq
	closing chan struct{}
	stopped chan struct{}
	once    sync.Once

	gap, maxWait time.Duration // gatherGap and gatherMax; tests change them
	commits      atomic.Int64  // batches the writer committed or tried to
	writes       atomic.Int64  // writes in those batches
}

// Stats counts the writer's work since Open.
type Stats struct {
	// Batches is how many transactions the writer ran, each ended by one
	// commit and its fsync (or a rollback).
	Batches int64
	// Writes is how many calls of Write those transactions carried.
	Writes int64
}

// Stats returns the writer's counts; Writes/Batches is how many writes
// shared each fsync.
func (db *DB) Stats() Stats {
	return Stats{Batches: db.commits.Load(), Writes: db.writes.Load()}
}

type writeReq struct {
	ctx  context.Context
	fn   func(sqldb.Tx) error
	done chan error
}

// Open opens or creates the database file at path.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if opts.Readers <= 0 {
		opts.Readers = 4
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	pragmas := []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)",
		"foreign_keys(1)", "cache_size(-8192)", "mmap_size(1073741824)", "temp_store(MEMORY)"}
	writer, err := sql.Open("sqlite", dsn(path, pragmas))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	writer.SetMaxOpenConns(1)
	wconn, err := writer.Conn(ctx)
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// The file must be private: it holds sealed data and wrapped keys.
	if err := os.Chmod(path, 0o600); err != nil {
		wconn.Close()
		writer.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	reader, err := sql.Open("sqlite", dsn(path, append(pragmas, "query_only(1)")))
	if err != nil {
		wconn.Close()
		writer.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	reader.SetMaxOpenConns(opts.Readers)
	reader.SetMaxIdleConns(opts.Readers)

	db := &DB{
		path: path, writer: writer, wconn: wconn, reader: reader,
		wstmts:  make(map[string]*sql.Stmt),
		queue:   make(chan *writeReq, maxBatch),
		closing: make(chan struct{}),
		stopped: make(chan struct{}),
		gap:     gatherGap, maxWait: gatherMax,
	}
	_, err = wconn.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+sqldb.MigrationsTable+
		" (component TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,"+
		" applied_at INTEGER NOT NULL, PRIMARY KEY (component, version))")
	if err != nil {
		db.closeConns()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	go db.run()
	return db, nil
}

func dsn(path string, pragmas []string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	return "file:" + path + "?" + q.Encode()
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Engine returns sqldb.SQLite.
func (db *DB) Engine() string { return sqldb.SQLite }

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("sqlite: database closed")

// Write queues fn and waits until the batch it joined has committed.
func (db *DB) Write(ctx context.Context, fn func(sqldb.Tx) error) error {
	select {
	case <-db.closing:
		return ErrClosed
	default:
	}
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.queue <- req:
	case <-db.closing:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, the write is waited for even if ctx ends: the caller must
	// learn whether it committed. A write queued while Close ran may never
	// be picked up; it did not run.
	select {
	case err := <-req.done:
		return err
	case <-db.stopped:
		select {
		case err := <-req.done:
			return err
		default:
			return ErrClosed
		}
	}
}

func (db *DB) run() {
	defer close(db.stopped)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	// The writers expected in the next batch: those the last commit
	// released, which are likely to come back, and those that queued
	// while it ran.
	last, queued := 0, 0
	for {
		var first *writeReq
		select {
		case first = <-db.queue:
		case <-db.closing:
			db.drain()
			return
		}
		batch := db.take([]*writeReq{first})
		if last > 1 {
			batch = db.gather(batch, min(last+queued, maxBatch), timer)
		}
		db.commits.Add(1)
		db.writes.Add(int64(len(batch)))
		db.commitFast(batch)
		last, queued = len(batch), len(db.queue)
	}
}

// take adds the writes already queued to batch, without waiting.
func (db *DB) take(batch []*writeReq) []*writeReq {
	for len(batch) < maxBatch {
		select {
		case r := <-db.queue:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// gather waits for more writes to join batch until it holds want, while
// they keep coming, each within db.gap of the last, for db.maxWait at most.
func (db *DB) gather(batch []*writeReq, want int, timer *time.Timer) []*writeReq {
	end := time.Now().Add(db.maxWait)
	for len(batch) < want {
		wait := min(db.gap, time.Until(end))
		if wait <= 0 {
			return batch
		}
		timer.Reset(wait)
		select {
		case r := <-db.queue:
			timer.Stop()
			batch = db.take(append(batch, r))
		case <-timer.C:
			return batch
		case <-db.closing:
			timer.Stop()
			return batch
		}
	}
	return batch
}

// drain fails the writes still queued at Close.
func (db *DB) drain() {
	for {
		select {
		case r := <-db.queue:
			r.done <- ErrClosed
		default:
			return
		}
	}
}

// commitFast runs a batch in one transaction without savepoints, which is
// what almost every batch needs. If a write fails, the transaction is rolled
// back, that write reports its error, and the others run again through
// commit, each in its own savepoint. This is why a function passed to Write
// must be safe to run more than once.
func (db *DB) commitFast(batch []*writeReq) {
	ctx := context.Background()
	if _, err := db.wconn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		for _, r := range batch {
			r.done <- fmt.Errorf("begin: %w", err)
		}
		return
	}
	t := &tx{db: db, conn: db.wconn, writer: true}
	live := batch[:0:0]
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		if err := runProtected(t, r.fn); err != nil {
			db.wconn.ExecContext(ctx, "ROLLBACK")
			r.done <- err
			rest := append(live, batch[i+1:]...)
			if len(rest) > 0 {
				db.commit(rest)
			}
			return
		}
		live = append(live, r)
	}
	_, err := db.wconn.ExecContext(ctx, "COMMIT")
	if err != nil {
		db.wconn.ExecContext(ctx, "ROLLBACK")
		err = fmt.Errorf("commit: %w", err)
	}
	for _, r := range live {
		r.done <- err
	}
}

// runProtected runs fn, turning a panic into an error.
func runProtected(t *tx, fn func(sqldb.Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write panicked: %v", p)
		}
	}()
	return fn(t)
}

// commit runs a batch in one transaction, each write in its own savepoint.
func (db *DB) commit(batch []*writeReq) {
	ctx := context.Background()
	if _, err := db.wconn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		for _, r := range batch {
			r.done <- fmt.Errorf("begin: %w", err)
		}
		return
	}
	results := make([]error, len(batch))
	t := &tx{db: db, conn: db.wconn, writer: true}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		var lost bool
		lost, results[i] = db.runInSavepoint(ctx, t, r.fn)
		if lost {
			// SQLite rolled the whole transaction back (a full disk or an
			// I/O error does that): the writes before this one are gone,
			// and the ones after it go into a new transaction.
			for j := 0; j < i; j++ {
				if results[j] == nil {
					results[j] = fmt.Errorf("%w: %w", ErrBatchRolledBack, results[i])
				}
			}
			for j := 0; j <= i; j++ {
				batch[j].done <- results[j]
			}
			if rest := batch[i+1:]; len(rest) > 0 {
				db.commit(rest)
			}
			return
		}
	}
	_, err := db.wconn.ExecContext(ctx, "COMMIT")
	if err != nil {
		db.wconn.ExecContext(ctx, "ROLLBACK")
		err = fmt.Errorf("commit: %w", err)
	}
	for i, r := range batch {
		if results[i] == nil {
			results[i] = err
		}
		r.done <- results[i]
	}
}

// ErrBatchRolledBack means a write was undone because another write that
// shared its transaction hit an error that made SQLite roll it all back.
var ErrBatchRolledBack = errors.New("sqlite: write rolled back with its batch")

// runInSavepoint runs fn inside a savepoint. lost reports that the enclosing
// transaction no longer exists.
func (db *DB) runInSavepoint(ctx context.Context, t *tx, fn func(sqldb.Tx) error) (lost bool, err error) {
	if _, err := db.wconn.ExecContext(ctx, "SAVEPOINT w"); err != nil {
		return false, fmt.Errorf("savepoint: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write panicked: %v", p)
		}
		if err != nil {
			if _, rerr := db.wconn.ExecContext(ctx, "ROLLBACK TO w"); rerr != nil {
				lost = true
				return
			}
		}
		if _, rerr := db.wconn.ExecContext(ctx, "RELEASE w"); rerr != nil && err == nil {
			err = fmt.Errorf("release savepoint: %w", rerr)
		}
	}()
	return false, fn(t)
}

// Read runs fn in a read transaction on the read pool.
func (db *DB) Read(ctx context.Context, fn func(sqldb.Tx) error) error {
	stx, err := db.reader.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer stx.Rollback()
	return fn(&tx{db: db, stx: stx})
}

// QueryRow runs one statement on the read pool, outside a transaction.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) sqldb.Row {
	if s, ok := db.rstmts.Load(query); ok {
		return sqlRow{s.(*sql.Stmt).QueryRowContext(ctx, args...)}
	}
	db.prepareLater(query)
	return sqlRow{db.reader.QueryRowContext(ctx, query, args...)}
}

// Migrate applies the component's migrations that are not applied yet.
func (db *DB) Migrate(ctx context.Context, component string, ms []sqldb.Migration) error {
	return sqldb.ApplyMigrations(ctx, sqldb.SQLite, component, ms, db.Write)
}

// Checkpoint copies the WAL into the main database file.
func (db *DB) Checkpoint(ctx context.Context) error {
	return db.Write(ctx, func(sqldb.Tx) error { return nil })
}

// IntegrityCheck runs SQLite's integrity check and returns its first
// complaint, if any.
func (db *DB) IntegrityCheck(ctx context.Context) error {
	var res string
	if err := db.reader.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("integrity check: %s", res)
	}
	return nil
}

// Close stops the writer after the writes already queued and closes the
// database.
func (db *DB) Close() error {
	db.once.Do(func() { close(db.closing) })
	<-db.stopped
	db.bgPrepare.Wait()
	return db.closeConns()
}

func (db *DB) closeConns() error {
	for _, s := range db.wstmts {
		s.Close()
	}
	db.rstmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	db.raw.close()
	return errors.Join(db.wconn.Close(), db.writer.Close(), db.reader.Close())
}

// tx is either the writer's open transaction or a read transaction.
type tx struct {
	db     *DB
	conn   *sql.Conn // writer
	writer bool
	stx    *sql.Tx // reader
}

func (t *tx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if t.writer {
		if s, ok := t.db.wstmts[query]; ok {
			return s, nil
		}
		s, err := t.conn.PrepareContext(ctx, query)
		if err != nil {
			return nil, err
		}
		t.db.wstmts[query] = s
		return s, nil
	}
	if s, ok := t.db.rstmts.Load(query); ok {
		return t.stx.StmtContext(ctx, s.(*sql.Stmt)), nil
	}
	// A query the pool has not prepared yet is prepared on this
	// transaction's own connection: preparing it on the pool would wait for
	// a second connection, and with every connection in a read transaction
	// doing the same, none would come back. The pool-wide statement is made
	// in the background for the next reads.
	t.db.prepareLater(query)
	return t.stx.PrepareContext(ctx, query)
}

// prepareLater prepares query on the read pool once a connection is free
// and caches it.
func (db *DB) prepareLater(query string) {
	select {
	case <-db.closing:
		return
	default:
	}
	if _, busy := db.preparing.LoadOrStore(query, true); busy {
		return
	}
	db.bgPrepare.Add(1)
	go func() {
		defer db.bgPrepare.Done()
		defer db.preparing.Delete(query)
		s, err := db.reader.PrepareContext(context.Background(), query)
		if err != nil {
			return // closed or failing; the next read tries again
		}
		if _, loaded := db.rstmts.LoadOrStore(query, s); loaded {
			s.Close()
		}
	}()
}

func (t *tx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	s, err := t.stmt(ctx, query)
	if err != nil {
		return 0, err
	}
	res, err := s.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *tx) ExecBatch(ctx context.Context, stmts ...sqldb.Stmt) ([]int64, error) {
	out := make([]int64, len(stmts))
	for i, s := range stmts {
		n, err := t.Exec(ctx, s.Query, s.Args...)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

func (t *tx) Query(ctx context.Context, query string, args ...any) (sqldb.Rows, error) {
	s, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := s.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (t *tx) QueryRow(ctx context.Context, query string, args ...any) sqldb.Row {
	s, err := t.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return sqlRow{s.QueryRowContext(ctx, args...)}
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

type sqlRow struct{ r *sql.Row }

func (r sqlRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return sqldb.ErrNoRows
	}
	return err
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
