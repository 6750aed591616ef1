package sqlite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/securecart/securecart/internal/sqldb"
)

// ReadRow reads what QueryRow reads, sees committed writes at once, and
// refuses what it cannot store.
func TestReadRow(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	err := db.Write(ctx, func(tx sqldb.Tx) error {
		if _, err := tx.Exec(ctx, "CREATE TABLE r (id TEXT PRIMARY KEY, b BLOB, s TEXT NOT NULL, n INTEGER NOT NULL)"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO r VALUES ('a', x'00ff10', 'text', -7), ('b', NULL, '', 1)")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	const q = "SELECT id, b, s, n, n FROM r WHERE id = ?"

	for _, id := range []string{"a", "b"} {
		var got, want struct {
			id, s string
			b     []byte
			n     int64
			ok    bool
		}
		if err := db.ReadRow(ctx, q, []any{id}, &got.id, &got.b, &got.s, &got.n, &got.ok); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := db.QueryRow(ctx, q, id).Scan(&want.id, &want.b, &want.s, &want.n, &n); err != nil {
			t.Fatal(err)
		}
		want.ok = n != 0
		if got.id != want.id || !bytes.Equal(got.b, want.b) || got.s != want.s || got.n != want.n || got.ok != want.ok {
			t.Fatalf("ReadRow(%s) = %+v, QueryRow = %+v", id, got, want)
		}
		if id == "b" && got.b != nil {
			t.Fatalf("NULL blob read as %v", got.b)
		}
	}

	var s string
	if err := db.ReadRow(ctx, "SELECT s FROM r WHERE id = ?", []any{"z"}, &s); !errors.Is(err, sqldb.ErrNoRows) {
		t.Fatalf("missing row: %v", err)
	}
	if err := db.ReadRow(ctx, "SELECT b FROM r WHERE id = ?", []any{"b"}, &s); err == nil {
		t.Fatal("NULL read into a string")
	}
	var n int64
	if err := db.ReadRow(ctx, "SELECT s FROM r WHERE id = ?", []any{"a"}, &n); err == nil {
		t.Fatal("text read into an int64")
	}
	if err := db.ReadRow(ctx, "SELECT s, n FROM r WHERE id = ?", []any{"a"}, &s); err == nil {
		t.Fatal("two columns read into one destination")
	}
	var f float64
	if err := db.ReadRow(ctx, "SELECT n FROM r WHERE id = ?", []any{"a"}, &f); err == nil {
		t.Fatal("read into an unsupported destination")
	}
	if err := db.ReadRow(ctx, "SELECT nope FROM r", nil, &s); err == nil {
		t.Fatal("a query that does not prepare was run")
	}

	err = db.Write(ctx, func(tx sqldb.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE r SET n = 42 WHERE id = 'a'")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.ReadRow(ctx, "SELECT n FROM r WHERE id = ?", []any{"a"}, &n); err != nil || n != 42 {
		t.Fatalf("after a committed update: %d, %v", n, err)
	}
}

// Concurrent readers share the pool's connections and their statements.
func TestReadRowConcurrent(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	err := db.Write(ctx, func(tx sqldb.Tx) error {
		for i := range 50 {
			if _, err := tx.Exec(ctx, "INSERT INTO kv (k, v) VALUES (?, ?)", fmt.Sprint(i), i); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				var v int64
				k := fmt.Sprint((g + i) % 50)
				if err := db.ReadRow(ctx, "SELECT v FROM kv WHERE k = ?", []any{k}, &v); err != nil || fmt.Sprint(v) != k {
					t.Errorf("read %s: %d, %v", k, v, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
