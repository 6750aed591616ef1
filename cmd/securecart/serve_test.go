package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/config"
	"github.com/securecart/securecart/internal/deploy"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/store"
)

// TestSweepErasedAtStart leaves a customer as an erasure interrupted after
// its key was destroyed and before its row was deleted; the sweep that
// serve starts removes that row and no other.
func TestSweepErasedAtStart(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	d, err := deploy.Open(ctx, cfg, deploy.Options{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	erased, err := d.Store.CreateCustomer(ctx, store.NewCustomer{Name: "Ada Lovelace", Email: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	kept, err := d.Store.CreateCustomer(ctx, store.NewCustomer{Name: "Grace Hopper", Email: "grace@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Keys.Shred(ctx, erased.ID); err != nil {
		t.Fatal(err)
	}
	rows := func(id string) int64 {
		var n int64
		err := d.DB.Read(t.Context(), func(tx sqldb.Tx) error {
			return tx.QueryRow(t.Context(), "SELECT COUNT(*) FROM customers WHERE id = ?", id).Scan(&n)
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if rows(erased.ID) != 1 {
		t.Fatal("the interrupted erasure left no row to sweep")
	}

	trail, err := d.OpenAudit(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sweepErased(ctx, d.Store, trail, time.Hour, slog.New(slog.DiscardHandler))
	}()
	for deadline := time.Now().Add(30 * time.Second); rows(erased.ID) != 0; {
		if time.Now().After(deadline) {
			t.Fatal("the erased customer's row was not swept")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	if err := trail.Close(); err != nil {
		t.Fatal(err)
	}
	// The sweep is in the trail, as the server's own action.
	recs := trailRecords(t, d.AuditDir())
	if len(recs) != 2 || recs[0].Action != audit.ActionSweepErased || recs[0].Principal != audit.System.ID ||
		recs[1].Status != audit.StatusDone {
		t.Fatalf("trail after the sweep: %+v", recs)
	}
	if rows(kept.ID) != 1 {
		t.Fatal("the sweep removed a live customer")
	}
	if c, err := d.Store.GetCustomer(t.Context(), kept.ID); err != nil || c.Email != "grace@example.com" {
		t.Fatalf("live customer after the sweep: %v", err)
	}
}
