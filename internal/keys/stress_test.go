package keys

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/sqldb"
)

// load is the shared state of TestRotateUnderLoad's goroutines.
type load struct {
	mu     sync.Mutex
	values []sealed
	owners []string

	errs                    []error
	writes, reads, rotation atomic.Int64
}

func (l *load) fail(err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
}

func (l *load) add(v sealed, newOwner string) {
	l.mu.Lock()
	l.values = append(l.values, v)
	if newOwner != "" {
		l.owners = append(l.owners, newOwner)
	}
	l.mu.Unlock()
}

// pick returns a random value and a random owner seen so far.
func (l *load) pick(r *rand.Rand) (sealed, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.values[r.IntN(len(l.values))], l.owners[r.IntN(len(l.owners))]
}

// TestRotateUnderLoad rotates, rewraps and destroys KEK versions while
// four goroutines create owners, seal and open.
func TestRotateUnderLoad(t *testing.T) {
	run := 10 * time.Second
	if testing.Short() {
		run = 2 * time.Second
	}
	forEngines(t, func(t *testing.T, e *env) {
		t.Parallel()
		ctx := t.Context()
		pii := envelope.CustomerPII
		cfg := Config{PoolSize: 16}
		ks := e.open(cfg)
		l := &load{}
		first, _ := addOwner(t, ks, e.h.DB, pii, "o-first")
		l.add(first, "o-first")
		deadline := time.Now().Add(run)

		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(w), 1))
				for i := 0; time.Now().Before(deadline); i++ {
					v, owner := l.pick(r)
					switch op := r.IntN(8); {
					case op == 0:
						l.newOwner(ks, e.h.DB, fmt.Sprintf("o%d-%d", w, i))
					case op <= 2:
						b := bind(owner, fmt.Sprintf("w%d-%d", w, i))
						ct, err := ks.SealFor(ctx, pii, owner, b, []byte(b.Column))
						if err != nil {
							l.fail(fmt.Errorf("seal for %s: %w", owner, err))
							continue
						}
						l.writes.Add(1)
						l.add(sealed{ct: ct, b: b, pt: []byte(b.Column)}, "")
					default:
						got, err := ks.Open(ctx, v.ct, v.b)
						if err != nil || !bytes.Equal(got, v.pt) {
							l.fail(fmt.Errorf("read %s/%s: %q, %w", v.b.Row, v.b.Column, got, err))
							continue
						}
						l.reads.Add(1)
					}
				}
			})
		}
		wg.Go(func() {
			for {
				time.Sleep(min(run/8, time.Until(deadline)))
				if !time.Now().Before(deadline) {
					return
				}
				if err := l.rotate(ks, pii); err != nil {
					l.fail(err)
				}
			}
		})
		wg.Wait()
		settle(ks)

		t.Logf("%d rotations, %d writes, %d reads, %d errors",
			l.rotation.Load(), l.writes.Load(), l.reads.Load(), len(l.errs))
		for i, err := range l.errs {
			if i == 10 {
				t.Errorf("and %d more", len(l.errs)-i)
				break
			}
			t.Error(err)
		}
		if l.rotation.Load() < 2 || l.writes.Load() == 0 || l.reads.Load() == 0 {
			t.Fatal("the load did not run")
		}

		// Finish the last rotation; everything opens from a fresh process,
		// under the newest version alone.
		if err := l.rotate(ks, pii); err != nil {
			t.Fatal(err)
		}
		active, _ := ks.ActiveVersion(pii)
		for _, ki := range mustList(t, ks) {
			if ki.Domain == pii && ki.Version < active && ki.State != Destroyed {
				t.Errorf("version %d still %s after a quiet rewrap and destroy", ki.Version, ki.State)
			}
		}
		ks2 := e.reopen(cfg)
		for _, v := range l.values {
			v.check(t, ks2)
		}
	})
}

func (l *load) newOwner(ks *Keystore, db sqldb.DB, owner string) {
	ctx := context.Background()
	dk, err := ks.NewDataKey(ctx, envelope.CustomerPII)
	if err != nil {
		l.fail(fmt.Errorf("new data key: %w", err))
		return
	}
	v := sealed{b: bind(owner, "email"), pt: []byte(owner)}
	if v.ct, err = ks.SealWith(ctx, dk, v.b, v.pt); err != nil {
		l.fail(fmt.Errorf("seal with: %w", err))
		return
	}
	err = db.Write(ctx, func(tx sqldb.Tx) error { return ks.Assign(ctx, tx, dk, owner) })
	if err != nil {
		l.fail(fmt.Errorf("assign: %w", err))
		return
	}
	ks.Assigned(dk, owner)
	l.writes.Add(1)
	l.add(v, owner)
}

// rotate rotates d, rewraps and destroys what the rewrap emptied. A
// version that still has keys (created during the rewrap) is left for the
// next round.
func (l *load) rotate(ks *Keystore, d Domain) error {
	ctx := context.Background()
	if _, err := ks.Rotate(ctx, d); err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	if _, err := ks.Rewrap(ctx, d, nil); err != nil {
		return fmt.Errorf("rewrap: %w", err)
	}
	active, err := ks.ActiveVersion(d)
	if err != nil {
		return err
	}
	for v := uint32(1); v < active; v++ {
		if err := ks.Destroy(ctx, d, v); err != nil && !errors.Is(err, ErrInUse) {
			return fmt.Errorf("destroy version %d: %w", v, err)
		}
	}
	l.rotation.Add(1)
	return nil
}

// TestRefreshDuringRotate reloads the KEKs from other goroutines while
// rotating: a rotation must stay visible once Rotate returns, and no reload
// may wipe the material of a live version.
func TestRefreshDuringRotate(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		bi := envelope.BlindIndex
		ks := e.open(Config{})
		var stop atomic.Bool
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				for !stop.Load() {
					if err := ks.Refresh(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		for range 100 {
			v, err := ks.Rotate(ctx, bi)
			if err != nil {
				t.Fatal(err)
			}
			kk, err := ks.active(bi)
			if err != nil {
				t.Fatal(err)
			}
			if kk.version != v {
				t.Fatalf("Rotate returned version %d, the keystore has %d active", v, kk.version)
			}
			if *kk.material.b == [KeySize]byte{} {
				t.Fatalf("version %d's material was wiped while active", v)
			}
			if _, err := ks.BlindToken("email", []byte("a@example.com")); err != nil {
				t.Fatal(err)
			}
		}
		stop.Store(true)
		wg.Wait()

		// Every version's blind-index key is the one a fresh start derives.
		got, err := ks.BlindTokens("email", []byte("a@example.com"))
		if err != nil {
			t.Fatal(err)
		}
		want, err := e.reopen(Config{}).BlindTokens("email", []byte("a@example.com"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 101 || !slices.EqualFunc(got, want, bytes.Equal) {
			t.Fatalf("%d tokens differ from a fresh keystore's %d", len(got), len(want))
		}
	})
}
