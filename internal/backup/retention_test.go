package backup_test

import (
	"errors"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/backup"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
)

// TestRetention takes snapshots over eleven days with a seven-day window:
// what only serves points before the window goes, the oldest point of the
// window still restores exactly, and a point before it no longer does.
func TestRetention(t *testing.T) {
	eng := sqldbtest.Engines()[0]
	const week = 7 * 24 * time.Hour
	e := newEnvClock(t, eng, newLocal(t), backup.Options{Retention: week}, true)
	advance := func(d time.Duration) {
		e.mu.Lock()
		e.clock = e.clock.Add(d)
		e.mu.Unlock()
	}
	w := newWorkload(e, 31)
	steps := func(n int) {
		for range n {
			w.step()
		}
		e.ship()
	}
	start := e.now()
	steps(10)
	s0 := e.snapshot()
	steps(10)
	advance(72 * time.Hour)
	s1 := e.snapshot()
	steps(10)
	advance(24 * time.Hour)
	refPos, ref := e.digest()
	refAt := e.now()
	steps(10)
	advance(48 * time.Hour)
	e.snapshot()
	steps(10)
	advance(72 * time.Hour)
	e.snapshot()
	steps(10)
	// The window now starts a second before the reference point.
	advance(refAt.Add(week - time.Second).Sub(e.now()))

	n, err := e.sh.ApplyRetention(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := backup.ReadCatalog(e.ctx, e.obj, e.sh.Deployment())
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 || len(cat.Snapshots) != 3 || cat.Snapshots[0].Dir != s1.Dir {
		t.Fatalf("retention deleted %d objects and kept snapshots %+v; want all but %s", n, cat.Snapshots, s0.Dir)
	}
	for _, seg := range cat.Segments {
		if seg.Last <= s1.Pos {
			t.Fatalf("segment %s is older than the oldest snapshot kept", seg.Name)
		}
	}

	db, _, err := e.restore(eng, refAt, 0)
	if err != nil {
		t.Fatalf("restore to the start of the window: %v", err)
	}
	pos, got, err := store.Digest(e.ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if pos != refPos || !equalDigests(got, ref) {
		t.Fatalf("restore to the start of the window: %+v at %d, want %+v at %d", got, pos, ref, refPos)
	}
	if _, _, err := e.restore(eng, start.Add(time.Hour), 0); !errors.Is(err, backup.ErrNoSnapshot) {
		t.Fatalf("restore to before the window: %v, want ErrNoSnapshot", err)
	}
	// A second pass finds nothing more to delete.
	if n, err := e.sh.ApplyRetention(e.ctx); err != nil || n != 0 {
		t.Fatalf("second retention pass: %d, %v", n, err)
	}
}
