package identity

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

// forEachEngine runs fn on a fresh database of each engine.
func forEachEngine(t *testing.T, fn func(t *testing.T, h *sqldbtest.Handle)) {
	t.Helper()
	for _, e := range sqldbtest.Engines() {
		t.Run(e.Name, func(t *testing.T) { fn(t, e.Open(t)) })
	}
}

// testArgon keeps password hashing cheap in tests; the shipped cost is
// measured by BenchmarkSignIn.
var testArgon = Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}

// fakeClock is a clock that moves only when the test advances it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// countingDB counts the write transactions run through it.
type countingDB struct {
	sqldb.DB
	writes atomic.Int64
}

func (c *countingDB) Write(ctx context.Context, fn func(sqldb.Tx) error) error {
	c.writes.Add(1)
	return c.DB.Write(ctx, fn)
}

// openDir opens a directory over db with a fake clock.
func openDir(t testing.TB, db sqldb.DB) (*Directory, *fakeClock) {
	t.Helper()
	d, err := Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock()
	d.now = clk.Now
	d.SetPasswordCost(testArgon)
	return d, clk
}

func mustPrincipal(t testing.TB, d *Directory, name string, kind Kind, roles ...Role) *Principal {
	t.Helper()
	p, err := d.CreatePrincipal(context.Background(), name, kind, roles)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustKey(t testing.TB, d *Directory, principalID string, ttl time.Duration) (APIKey, *KeyInfo) {
	t.Helper()
	k, info, err := d.CreateKey(context.Background(), principalID, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return k, info
}
