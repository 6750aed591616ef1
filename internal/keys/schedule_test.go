package keys

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

func TestMaintenanceRotatesOnScheduleAndSweeps(t *testing.T) {
	ctx := context.Background()
	h := sqldbtest.OpenSQLite(t)
	clock := newFakeClock()
	ks, err := Open(ctx, h.DB, &FileProvider{Path: filepath.Join(t.TempDir(), "root.key")},
		Config{Now: clock.Now, CryptoPeriod: 30 * 24 * time.Hour, PoolSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	if _, err := ks.NewDataKey(ctx, envelope.CustomerPII); err != nil {
		t.Fatal(err)
	}
	settle(ks)

	rotated, err := ks.RunOnce(ctx, Maintenance{})
	if err != nil || len(rotated) != 0 {
		t.Fatalf("fresh keystore rotated %v, %v", rotated, err)
	}

	clock.Add(31 * 24 * time.Hour)
	rotated, err = ks.RunOnce(ctx, Maintenance{})
	if err != nil || len(rotated) != len(envelope.Domains) {
		t.Fatalf("after the crypto-period: rotated %v, %v", rotated, err)
	}
	for _, d := range envelope.Domains {
		if v, _ := ks.ActiveVersion(d); v != 2 {
			t.Fatalf("%s active version %d, want 2", d, v)
		}
	}
	// The pool keys made a month ago are older than a day and unassigned.
	var left int64
	err = h.Read(ctx, func(tx sqldb.Tx) error {
		return tx.QueryRow(ctx, "SELECT COUNT(*) FROM ks_data_keys WHERE owner IS NULL AND kek_version = 1").Scan(&left)
	})
	if err != nil || left != 0 {
		t.Fatalf("%d stale unassigned keys left, %v", left, err)
	}
}

func TestRunStopsWithItsContext(t *testing.T) {
	h := sqldbtest.OpenSQLite(t)
	ks, err := Open(context.Background(), h.DB, &FileProvider{Path: filepath.Join(t.TempDir(), "root.key")}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ks.Run(ctx, Maintenance{Every: time.Millisecond}); close(done) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}

// TestStalePoolKeysAreNotHandedOut makes the pool outlive the sweep: the keys
// it still holds are discarded, not handed to a new customer.
func TestStalePoolKeysAreNotHandedOut(t *testing.T) {
	ctx := context.Background()
	h := sqldbtest.OpenSQLite(t)
	clock := newFakeClock()
	ks, err := Open(ctx, h.DB, &FileProvider{Path: filepath.Join(t.TempDir(), "root.key")},
		Config{Now: clock.Now, PoolSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	if _, err := ks.NewDataKey(ctx, envelope.CustomerPII); err != nil {
		t.Fatal(err)
	}
	settle(ks)
	clock.Add(2 * 24 * time.Hour)
	if _, err := ks.RunOnce(ctx, Maintenance{}); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		key, err := ks.NewDataKey(ctx, envelope.CustomerPII)
		if err != nil {
			t.Fatal(err)
		}
		err = h.Write(ctx, func(tx sqldb.Tx) error { return ks.Assign(ctx, tx, key, "owner-"+string(rune('a'+i))) })
		if err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
		settle(ks)
	}
}

// TestMaintenanceAround runs the jobs that change keys through the hook:
// a hook that refuses keeps the keys as they are, one that calls run
// rotates and sweeps.
func TestMaintenanceAround(t *testing.T) {
	ctx := context.Background()
	h := sqldbtest.OpenSQLite(t)
	clock := newFakeClock()
	ks, err := Open(ctx, h.DB, &FileProvider{Path: filepath.Join(t.TempDir(), "root.key")},
		Config{Now: clock.Now, CryptoPeriod: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	clock.Add(31 * 24 * time.Hour)

	refused := errors.New("not recorded")
	var asked []Job
	refuse := Maintenance{Around: func(_ context.Context, job Job, _ func(context.Context) error) error {
		asked = append(asked, job)
		return refused
	}}
	if _, err := ks.RunOnce(ctx, refuse); !errors.Is(err, refused) || len(asked) != 1 || asked[0].Name != JobRotate {
		t.Fatalf("refusing hook: %v, asked for %v", err, asked)
	}
	if v, _ := ks.ActiveVersion(asked[0].Domain); v != 1 {
		t.Fatalf("%s rotated to %d although the hook refused", asked[0].Domain, v)
	}

	asked = nil
	run := Maintenance{Around: func(ctx context.Context, job Job, run func(context.Context) error) error {
		asked = append(asked, job)
		return run(ctx)
	}}
	rotated, err := ks.RunOnce(ctx, run)
	if err != nil || len(rotated) != len(envelope.Domains) || len(asked) != len(envelope.Domains)+1 ||
		asked[len(asked)-1] != (Job{Name: JobSweepOrphans}) {
		t.Fatalf("hook that runs: rotated %v, asked %v, %v", rotated, asked, err)
	}
	for i, d := range envelope.Domains {
		if asked[i] != (Job{Name: JobRotate, Domain: d}) {
			t.Errorf("job %d is %v, want the rotation of %s", i, asked[i], d)
		}
		if v, _ := ks.ActiveVersion(d); v != 2 {
			t.Fatalf("%s active version %d, want 2", d, v)
		}
	}
}
