package backup_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/backup"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

func newRunner(t *testing.T, e *env, eng sqldbtest.Engine) *backup.Runner {
	return backup.NewRunner(e.sh, e.obj, backup.RunnerOptions{
		VerifyWait: 5 * time.Second,
		Scratch: func(context.Context) (sqldb.DB, func(), error) {
			return eng.Open(t).DB, func() {}, nil
		},
		Provider: func(sqldb.DB) (keys.Provider, error) { return &keys.FileProvider{Path: e.root}, nil },
	})
}

// TestRunnerVerifies runs the shipper and the verification schedule: a
// deployment never verified is verified once its first snapshot exists,
// the result is recorded for the status, and a damaged backup records a
// failure that names the object.
func TestRunnerVerifies(t *testing.T) {
	eng := sqldbtest.Engines()[0]
	var jobsMu sync.Mutex
	jobs := map[string]int{}
	around := func(ctx context.Context, job string, run func(context.Context) error) error {
		jobsMu.Lock()
		jobs[job]++
		jobsMu.Unlock()
		return run(ctx)
	}
	e := newEnv(t, eng, newLocal(t), backup.Options{Interval: 100 * time.Millisecond, Around: around})
	w := newWorkload(e, 21)
	for range 30 {
		w.step()
	}
	r := newRunner(t, e, eng)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.Run(ctx)
	}()
	waitFor(t, 30*time.Second, "the first scheduled verification", func() bool {
		rec, err := backup.LastVerify(e.ctx, e.h.DB)
		return err == nil && rec != nil
	})
	cancel()
	wg.Wait()
	jobsMu.Lock()
	if jobs[backup.JobSnapshot] != 1 || jobs[backup.JobVerify] != 1 {
		t.Errorf("scheduled jobs run through Around: %v", jobs)
	}
	jobsMu.Unlock()

	rep, err := r.Status(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	v := rep.LastVerify
	if v == nil || !v.OK || v.Error != "" || len(v.Tables) == 0 || v.Pos == 0 {
		t.Fatalf("last verification %+v", v)
	}
	if rep.Window.Snapshots != 1 || rep.Window.From.IsZero() || rep.Shipping.Shipped != v.Pos {
		t.Fatalf("status %+v", rep)
	}

	// Damage the only segment after the snapshot: the next verification
	// fails and says which object.
	for range 5 {
		w.step()
	}
	e.ship()
	cat, err := backup.ReadCatalog(e.ctx, e.obj, e.sh.Deployment())
	if err != nil {
		t.Fatal(err)
	}
	seg := cat.Segments[len(cat.Segments)-1].Name
	k := e.sh.Deployment() + "/" + seg
	b, _, err := e.obj.Get(e.ctx, objstore.Backups, k)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-3] ^= 0x40
	if _, err := e.obj.Put(e.ctx, objstore.Backups, k, b, objstore.Standard); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Verify(e.ctx); err == nil {
		t.Fatal("verification of a damaged backup passed")
	}
	last, err := backup.LastVerify(e.ctx, e.h.DB)
	if err != nil {
		t.Fatal(err)
	}
	if last.OK || !strings.Contains(last.Error, seg) || !last.At.After(v.At) {
		t.Fatalf("after damage, last verification %+v", last)
	}
}
