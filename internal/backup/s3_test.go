package backup_test

import (
	"context"
	"flag"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/backup"
	"github.com/securecart/securecart/internal/objstore/objstoretest"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
)

var outage = flag.Duration("backup.outage", 5*time.Second,
	"how long TestS3Outage keeps the S3 server down (the issue's check uses 60s)")

// TestS3Outage stops the S3 server for a while under writes: the lag grows,
// the store keeps serving, the shipper catches up once the server is back,
// and a restore afterwards equals the live store.
func TestS3Outage(t *testing.T) {
	srv := objstoretest.StartS3(t)
	obj := srv.NewStore(t)
	eng := sqldbtest.Engines()[0]
	e := newEnv(t, eng, obj, backup.Options{MaxBackoff: 2 * time.Second})

	ctx, cancel := context.WithCancel(context.Background())
	var runWG sync.WaitGroup
	runWG.Add(1)
	go func() {
		defer runWG.Done()
		e.sh.Run(ctx)
	}()

	// A steady writer, about 100 creates a second.
	var writes atomic.Int64
	var writeErr atomic.Value
	stopWrites := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stopWrites:
				return
			case <-time.After(10 * time.Millisecond):
			}
			_, err := e.st.CreateCustomer(e.ctx, store.NewCustomer{Name: "Outage", Email: fmt.Sprintf("o%d@example.com", i),
				Phone: "1", Address: store.Address{Line1: "1", City: "x", PostalCode: "1", Country: "FR"}})
			if err != nil {
				writeErr.Store(err)
				return
			}
			writes.Add(1)
		}
	}()

	waitFor(t, 20*time.Second, "first snapshot and segment", func() bool {
		st := e.sh.Status()
		return !st.LastSnapshot.IsZero() && st.Shipped > 0
	})

	srv.Stop()
	down := time.Now()
	before := writes.Load()
	var maxLag time.Duration
	for time.Since(down) < *outage {
		maxLag = max(maxLag, e.sh.Lag())
		time.Sleep(100 * time.Millisecond)
	}
	during := writes.Load() - before
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	if maxLag < *outage/2 {
		t.Errorf("lag peaked at %s during a %s outage; it should grow", maxLag, *outage)
	}
	if during == 0 {
		t.Error("no write succeeded while storage was down")
	}
	waitFor(t, 30*time.Second, "lag to recover", func() bool {
		maxLag = max(maxLag, e.sh.Lag())
		return e.sh.Lag() < 2*time.Second && e.sh.Status().Failures == 0
	})
	recovered := time.Since(up)

	close(stopWrites)
	wg.Wait()
	if err, _ := writeErr.Load().(error); err != nil {
		t.Fatalf("a write failed: %v", err)
	}
	cancel()
	runWG.Wait()
	e.ship()

	wantPos, want := e.digest()
	db, sum, err := e.restore(eng, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	pos, got, err := store.Digest(e.ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if pos != wantPos || !equalDigests(got, want) {
		t.Fatalf("restore after the outage: %+v at %d, want %+v at %d", got, pos, want, wantPos)
	}
	t.Logf("outage %s: %d writes while down, lag peaked at %s, back under 2s %s after the server returned;"+
		" restore of %d changes exact (%d customers)", *outage, during, maxLag.Round(time.Millisecond),
		recovered.Round(time.Millisecond), sum.Pos, got["customers"].Rows)
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
