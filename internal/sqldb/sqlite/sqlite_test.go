package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/sqldb"
)

func open(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	err = db.Write(context.Background(), func(tx sqldb.Tx) error {
		_, err := tx.Exec(context.Background(), "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func count(t *testing.T, db *DB) int64 {
	t.Helper()
	var n int64
	err := db.Read(context.Background(), func(tx sqldb.Tx) error {
		return tx.QueryRow(context.Background(), "SELECT COUNT(*) FROM kv").Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestGroupCommitIsolatesFailures runs many concurrent writes, some of which
// fail or panic: exactly the others are committed.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	results := make([]error, 300)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = db.Write(ctx, func(tx sqldb.Tx) error {
				if _, err := tx.Exec(ctx, "INSERT INTO kv (k, v) VALUES (?, ?)", fmt.Sprint(i), i); err != nil {
					return err
				}
				switch i % 10 {
				case 3:
					return errors.New("refused")
				case 7:
					panic("boom")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range results {
		if (i%10 == 3 || i%10 == 7) != (err != nil) {
			t.Fatalf("write %d: err = %v", i, err)
		}
	}
	if n := count(t, db); n != 240 {
		t.Fatalf("%d rows, want 240", n)
	}
}

// TestBatchRolledBackByDiskFull fills the database inside a batch: the
// writes that shared the lost transaction report an error, and the writes
// queued after it still commit.
func TestBatchRolledBackByDiskFull(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	var pages int64
	err := db.Write(ctx, func(tx sqldb.Tx) error {
		if err := tx.QueryRow(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages+4))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 64<<10)
	var wg sync.WaitGroup
	errs := make([]error, 40)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Write(ctx, func(tx sqldb.Tx) error {
				v := any(i)
				if i%8 == 0 {
					v = big
				}
				_, err := tx.Exec(ctx, "INSERT INTO kv (k, v) VALUES (?, ?)", fmt.Sprint(i), v)
				return err
			})
		}()
	}
	wg.Wait()
	acked := 0
	for _, err := range errs {
		if err == nil {
			acked++
		}
	}
	// Every acknowledged write is there, and nothing else.
	if n := count(t, db); n != int64(acked) {
		t.Fatalf("%d rows after %d acknowledged writes", n, acked)
	}
	if acked == 0 || acked == len(errs) {
		t.Fatalf("%d of %d acknowledged: the test did not exercise a full disk", acked, len(errs))
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestCloseFailsQueuedWrites(t *testing.T) {
	db := open(t)
	db.Close()
	err := db.Write(context.Background(), func(sqldb.Tx) error { return nil })
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

func TestFileIsPrivate(t *testing.T) {
	db := open(t)
	fi, err := statMode(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi&0o077 != 0 {
		t.Fatalf("database file mode %o", fi)
	}
}

// TestConcurrentFirstReads starts more read transactions than the pool has
// connections, each running a query never prepared before: none may wait
// for a connection another holds.
func TestConcurrentFirstReads(t *testing.T) {
	db := open(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs <- db.Read(ctx, func(tx sqldb.Tx) error {
				var n int64
				// Each goroutine's own query text: none is cached.
				q := fmt.Sprintf("SELECT COUNT(*) + %d FROM kv", i)
				if err := tx.QueryRow(ctx, q).Scan(&n); err != nil {
					return err
				}
				time.Sleep(20 * time.Millisecond) // hold the connection
				return tx.QueryRow(ctx, q+" WHERE v >= 0").Scan(&n)
			})
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestWritesGatherAfterSharedCommit checks the writer's wait: after a commit
// that several writes shared, a write arriving soon after the next one
// joins its commit; after a commit of one write, the next is not held back.
func TestWritesGatherAfterSharedCommit(t *testing.T) {
	db := open(t)
	db.gap, db.maxWait = 2*time.Second, 4*time.Second
	ctx := context.Background()
	insert := func(k string) error {
		return db.Write(ctx, func(tx sqldb.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO kv (k, v) VALUES (?, 1)", k)
			return err
		})
	}

	// A lone write after a lone write commits at once.
	t0 := time.Now()
	if err := insert("alone"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("a lone write waited %v", d)
	}

	// Two writes queued behind a held writer share a commit.
	hold := make(chan struct{})
	held := make(chan struct{})
	errs := make(chan error, 3)
	go func() {
		errs <- db.Write(ctx, func(sqldb.Tx) error { close(held); <-hold; return nil })
	}()
	<-held
	for _, k := range []string{"a", "b"} {
		go func() { errs <- insert(k) }()
	}
	for len(db.queue) < 2 {
		time.Sleep(time.Millisecond)
	}
	close(hold)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}

	// The next write waits for one that comes 50 ms later.
	before := db.Stats()
	go func() { errs <- insert("c") }()
	time.Sleep(50 * time.Millisecond)
	if err := insert("d"); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if st := db.Stats(); st.Batches-before.Batches != 1 || st.Writes-before.Writes != 2 {
		t.Fatalf("%d batches carried %d writes 50 ms apart after a shared commit, want 1 and 2",
			st.Batches-before.Batches, st.Writes-before.Writes)
	}

	// Once the batch holds as many writes as the last commit had, it
	// commits without waiting out the gap.
	t0 = time.Now()
	go func() { errs <- insert("e") }()
	time.Sleep(50 * time.Millisecond)
	if err := insert("f"); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("a full batch waited %v", d)
	}
	if n := count(t, db); n != 7 {
		t.Fatalf("%d rows, want 7", n)
	}
}
