package keys

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/sqldb"
)

// keyInfo returns List's entry for version v of d.
func keyInfo(t *testing.T, ks *Keystore, d Domain, v uint32) KeyInfo {
	t.Helper()
	for _, ki := range mustList(t, ks) {
		if ki.Domain == d && ki.Version == v {
			return ki
		}
	}
	t.Fatalf("List has no %s version %d", d, v)
	return KeyInfo{}
}

func TestRotateRewrapDestroy(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		pii := envelope.CustomerPII
		cfg := Config{PoolSize: 4}
		ks := e.open(cfg)
		var old []sealed
		for i := range 5 {
			v, _ := addOwner(t, ks, e.h.DB, pii, fmt.Sprint("old", i))
			old = append(old, v)
		}
		settle(ks)
		// Besides the owners' keys and the pool, version 1 may hold keys
		// that a fill raced into the database without room in the pool.
		pooled := int64(len(ks.pool(pii)))
		before := keyInfo(t, ks, pii, 1).DataKeys

		v, err := ks.Rotate(ctx, pii)
		if err != nil || v != 2 {
			t.Fatalf("Rotate = %d, %v; want version 2", v, err)
		}
		if av, err := ks.ActiveVersion(pii); err != nil || av != 2 {
			t.Fatalf("ActiveVersion = %d, %v; want 2", av, err)
		}
		if av, _ := ks.ActiveVersion(envelope.Orders); av != 1 {
			t.Fatalf("rotating customer-pii moved orders to version %d", av)
		}
		// The pooled keys under version 1 were dropped with the rotation.
		underV1 := keyInfo(t, ks, pii, 1)
		if underV1.State != DecryptOnly || underV1.DataKeys != before-pooled || underV1.DataKeys < 5 {
			t.Fatalf("version 1 after Rotate: %+v, want decrypt-only with %d keys less than the %d before",
				underV1, pooled, before)
		}

		var fresh []sealed
		for i := range 3 {
			v, dk := addOwner(t, ks, e.h.DB, pii, fmt.Sprint("new", i))
			fresh = append(fresh, v)
			if ver := kekVersionOf(t, e.h.DB, dk.ID()); ver != 2 {
				t.Fatalf("a data key created after Rotate is under version %d, want 2", ver)
			}
		}
		settle(ks)
		if ki := keyInfo(t, ks, pii, 2); ki.State != Active || ki.DataKeys < 3 {
			t.Fatalf("version 2: %+v, want active with at least the 3 new owners' keys", ki)
		}
		if ki := keyInfo(t, ks, pii, 1); ki.DataKeys != underV1.DataKeys {
			t.Fatalf("version 1 has %d data keys after new owners, want %d", ki.DataKeys, underV1.DataKeys)
		}
		all := append(slices.Clone(old), fresh...)
		for _, v := range all {
			v.check(t, ks)
		}

		if err := ks.Destroy(ctx, pii, 1); !errors.Is(err, ErrInUse) {
			t.Fatalf("Destroy with keys under the version: %v, want ErrInUse", err)
		}

		var calls [][2]int64
		n, err := ks.Rewrap(ctx, pii, func(done, total int64) { calls = append(calls, [2]int64{done, total}) })
		if err != nil || n != underV1.DataKeys {
			t.Fatalf("Rewrap = %d, %v; want %d", n, err, underV1.DataKeys)
		}
		if len(calls) == 0 || calls[len(calls)-1] != [2]int64{n, n} {
			t.Fatalf("progress calls %v, want the last to be done=total=%d", calls, n)
		}
		if n, err := ks.Rewrap(ctx, pii, nil); err != nil || n != 0 {
			t.Fatalf("second Rewrap = %d, %v; want 0", n, err)
		}
		if ki := keyInfo(t, ks, pii, 1); ki.DataKeys != 0 {
			t.Fatalf("version 1 still has %d data keys after Rewrap", ki.DataKeys)
		}

		if err := ks.Destroy(ctx, pii, 1); err != nil {
			t.Fatalf("Destroy after Rewrap: %v", err)
		}
		if ki := keyInfo(t, ks, pii, 1); ki.State != Destroyed {
			t.Fatalf("version 1 after Destroy: %+v", ki)
		}
		if w := kekWrapped(t, e.h.DB, pii, 1); w != nil {
			t.Fatal("a destroyed version keeps its wrapped key")
		}

		// The keys now open under version 2 alone, in this process (once
		// its cache is gone) and after a restart.
		ks.cache.Purge()
		ks.owners.Purge()
		for _, k := range []*Keystore{ks, e.reopen(cfg)} {
			for _, v := range all {
				v.check(t, k)
			}
			sealFor(t, k, pii, "old0", "phone").check(t, k)
		}

		cases := []struct {
			name string
			v    uint32
			want error
		}{
			{"the active version", 2, ErrInUse},
			{"an unknown version", 9, ErrUnknownKey},
			{"a destroyed version again", 1, nil},
		}
		for _, tc := range cases {
			if err := ks.Destroy(ctx, pii, tc.v); !errors.Is(err, tc.want) {
				t.Errorf("Destroy %s: %v, want %v", tc.name, err, tc.want)
			}
		}
		if av, _ := ks.ActiveVersion(pii); av != 2 {
			t.Fatalf("ActiveVersion after refused destroys = %d", av)
		}
	})
}

func kekVersionOf(t *testing.T, db sqldb.DB, id uint64) int64 {
	t.Helper()
	var v int64
	err := db.Read(t.Context(), func(tx sqldb.Tx) error {
		return tx.QueryRow(t.Context(), "SELECT kek_version FROM ks_data_keys WHERE id = ?", int64(id)).Scan(&v)
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func kekWrapped(t *testing.T, db sqldb.DB, d Domain, v uint32) []byte {
	t.Helper()
	var w []byte
	err := db.Read(t.Context(), func(tx sqldb.Tx) error {
		return tx.QueryRow(t.Context(), "SELECT wrapped FROM ks_keks WHERE domain = ? AND version = ?",
			int64(d), int64(v)).Scan(&w)
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestDestroyConsultsUsage(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		bi := envelope.BlindIndex
		ks := e.open(Config{})
		if _, err := ks.Rotate(ctx, bi); err != nil {
			t.Fatal(err)
		}
		if _, err := ks.Rotate(ctx, envelope.Orders); err != nil {
			t.Fatal(err)
		}

		var asked []uint32
		entries := int64(3)
		var usageErr error
		ks.RegisterUsage(bi, func(ctx context.Context, tx sqldb.Tx, v uint32) (int64, error) {
			asked = append(asked, v)
			var n int64 // the function runs in Destroy's transaction
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM ks_keks").Scan(&n); err != nil || n == 0 {
				return 0, fmt.Errorf("usage check cannot read: %v", err)
			}
			return entries, usageErr
		})

		if err := ks.Destroy(ctx, bi, 1); !errors.Is(err, ErrInUse) {
			t.Fatalf("Destroy with usage: %v, want ErrInUse", err)
		}
		if !slices.Equal(asked, []uint32{1}) {
			t.Fatalf("usage asked about versions %v, want [1]", asked)
		}
		usageErr = errors.New("index unavailable")
		entries = 0
		if err := ks.Destroy(ctx, bi, 1); !errors.Is(err, usageErr) {
			t.Fatalf("Destroy with a failing usage check: %v, want its error", err)
		}
		// Usage of one domain does not hold back another.
		if err := ks.Destroy(ctx, envelope.Orders, 1); err != nil {
			t.Fatalf("Destroy orders version 1: %v", err)
		}
		if ki := keyInfo(t, ks, bi, 1); ki.State != DecryptOnly {
			t.Fatalf("refused destroys changed version 1: %+v", ki)
		}

		usageErr = nil
		if err := ks.Destroy(ctx, bi, 1); err != nil {
			t.Fatalf("Destroy once usage is 0: %v", err)
		}
		tokens, err := ks.BlindTokens("email", []byte("a@example.com"))
		if err != nil || len(tokens) != 1 || BlindVersion(tokens[0]) != 2 {
			t.Fatalf("BlindTokens after destroying version 1 = %x, %v; want one token of version 2", tokens, err)
		}
	})
}

func TestRotateRefusesUnknownDomain(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ks := e.open(Config{})
		for _, d := range []Domain{0, 7, 255} {
			if _, err := ks.Rotate(t.Context(), d); err == nil {
				t.Errorf("Rotate(%d) succeeded", d)
			}
		}
		if n := len(mustList(t, ks)); n != len(envelope.Domains) {
			t.Fatalf("List has %d versions, want %d", n, len(envelope.Domains))
		}
	})
}

func TestRotateDue(t *testing.T) {
	cases := []struct {
		name   string
		period time.Duration // 0: the default
		want   time.Duration
	}{
		{"default period", 0, 365 * 24 * time.Hour},
		{"one day", 24 * time.Hour, 24 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forEngines(t, func(t *testing.T, e *env) {
				ctx := t.Context()
				clock := newFakeClock()
				ks := e.open(Config{CryptoPeriod: tc.period, Now: clock.Now})
				v, _ := addOwner(t, ks, e.h.DB, envelope.CustomerPII, "c1")

				clock.Add(tc.want - time.Microsecond)
				if due, err := ks.RotateDue(ctx); err != nil || len(due) != 0 {
					t.Fatalf("RotateDue before the period ends = %v, %v; want none", due, err)
				}
				for _, d := range envelope.Domains {
					if av, _ := ks.ActiveVersion(d); av != 1 {
						t.Fatalf("%s rotated early, to version %d", d, av)
					}
				}

				clock.Add(time.Microsecond)
				due, err := ks.RotateDue(ctx)
				if err != nil || !slices.Equal(due, envelope.Domains) {
					t.Fatalf("RotateDue at the period's end = %v, %v; want every domain", due, err)
				}
				for _, d := range envelope.Domains {
					if av, _ := ks.ActiveVersion(d); av != 2 {
						t.Fatalf("%s at version %d after RotateDue, want 2", d, av)
					}
				}
				if due, err := ks.RotateDue(ctx); err != nil || len(due) != 0 {
					t.Fatalf("RotateDue right after rotating = %v, %v; want none", due, err)
				}
				if ki := keyInfo(t, ks, envelope.Orders, 1); ki.Age != tc.want.String() {
					t.Fatalf("List age of version 1 = %s, want %s", ki.Age, tc.want)
				}
				v.check(t, ks)
			})
		})
	}
}

func TestRotateRoot(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		ks := e.open(Config{PoolSize: 4})
		before, _ := os.ReadFile(e.keyPath)
		oldID := ks.Root().ID()
		v, _ := addOwner(t, ks, e.h.DB, envelope.CustomerPII, "c1")

		if err := ks.RotateRoot(ctx); err != nil {
			t.Fatal(err)
		}
		after, _ := os.ReadFile(e.keyPath)
		if len(after) != KeySize || bytes.Equal(before, after) {
			t.Fatal("the root key file was not replaced by a new key")
		}
		if _, err := os.Stat(e.keyPath + ".next"); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a staged key is left after RotateRoot: %v", err)
		}
		newID := ks.Root().ID()
		if newID == oldID {
			t.Fatal("Root() still returns the old key")
		}
		if id, _ := (Meta{e.h.DB}).GetMeta(ctx, metaRootID); string(id) != newID {
			t.Fatalf("root_id meta %q, want %q", id, newID)
		}

		// The running keystore keeps working, and so does a restart.
		v2, _ := addOwner(t, ks, e.h.DB, envelope.CustomerPII, "c2")
		if _, err := ks.Rotate(ctx, envelope.Orders); err != nil {
			t.Fatal(err)
		}
		ks2 := e.reopen(Config{})
		v.check(t, ks2)
		v2.check(t, ks2)
		sealFor(t, ks2, envelope.CustomerPII, "c1", "phone").check(t, ks)

		// The old key no longer opens the keystore.
		if err := os.WriteFile(e.keyPath, before, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Open(ctx, e.h.Reopen(t), e.provider(), Config{})
		if he := hinted(t, err); !bytes.Contains([]byte(err.Error()), []byte("does not match")) {
			t.Fatalf("old root key: %v (hint %q), want a mismatch", err, he.Hint)
		}
	})
}

// rootProviders are the providers that RotateRoot's crash recovery is tested
// with; each test gets its own instance on the test's database.
var rootProviders = []struct {
	name string
	new  func(e *env) Provider
}{
	{"file", func(e *env) Provider { return e.provider() }},
	{"passphrase", func(e *env) Provider { return passphrase(e.h.DB, "correct horse") }},
}

// A crash after RotateRoot committed but before the new key was promoted
// leaves the old key current and the new one staged; the next start must
// finish the promotion.
func TestOpenFinishesRootRotation(t *testing.T) {
	for _, rp := range rootProviders {
		t.Run(rp.name, func(t *testing.T) {
			forEngines(t, func(t *testing.T, e *env) {
				ctx := t.Context()
				p := rp.new(e)
				ks := openKeystore(t, e.h.DB, p, Config{})
				v, _ := addOwner(t, ks, e.h.DB, envelope.Orders, "c1")
				oldKey, err := p.Load(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if err := ks.RotateRoot(ctx); err != nil {
					t.Fatal(err)
				}
				newKey, err := p.Load(ctx)
				if err != nil || newKey.Equal(oldKey) {
					t.Fatalf("provider after RotateRoot: %v, %v", newKey, err)
				}

				// Put the provider back as the crash would have left it.
				if err := p.Save(ctx, oldKey); err != nil {
					t.Fatal(err)
				}
				if err := p.Stage(ctx, newKey); err != nil {
					t.Fatal(err)
				}

				ks2 := openKeystore(t, e.h.Reopen(t), rp.new(e), Config{})
				if !ks2.Root().Equal(newKey) {
					t.Fatal("the restarted keystore does not use the staged key")
				}
				if cur, err := p.Load(ctx); err != nil || !cur.Equal(newKey) {
					t.Fatalf("the staged key was not promoted: %v", err)
				}
				if _, err := p.Staged(ctx); !errors.Is(err, ErrNoRootKey) {
					t.Fatalf("a staged key is left after promotion: %v", err)
				}
				v.check(t, ks2)
				openKeystore(t, e.h.Reopen(t), rp.new(e), Config{}) // and it stays finished
			})
		})
	}
}

// A crash before RotateRoot committed leaves a staged key that the keystore
// never used; the next start must drop it and keep the current key.
func TestOpenDiscardsUnusedStagedRoot(t *testing.T) {
	for _, rp := range rootProviders {
		t.Run(rp.name, func(t *testing.T) {
			forEngines(t, func(t *testing.T, e *env) {
				ctx := t.Context()
				p := rp.new(e)
				ks := openKeystore(t, e.h.DB, p, Config{})
				v, _ := addOwner(t, ks, e.h.DB, envelope.Orders, "c1")
				cur, err := p.Load(ctx)
				if err != nil {
					t.Fatal(err)
				}
				abandoned, err := NewRootKey()
				if err != nil {
					t.Fatal(err)
				}
				if err := p.Stage(ctx, abandoned); err != nil {
					t.Fatal(err)
				}

				ks2 := openKeystore(t, e.h.Reopen(t), rp.new(e), Config{})
				if !ks2.Root().Equal(cur) {
					t.Fatal("the restarted keystore changed its root key")
				}
				if _, err := p.Staged(ctx); !errors.Is(err, ErrNoRootKey) {
					t.Fatalf("the unused staged key was kept: %v", err)
				}
				if got, err := p.Load(ctx); err != nil || !got.Equal(cur) {
					t.Fatalf("the current key changed: %v", err)
				}
				v.check(t, ks2)
			})
		})
	}
}

// A node that has not seen another node's rotation must not create data
// keys under the old version, which the other node may already have
// destroyed: every key it hands out stays readable everywhere.
func TestStaleNodeCreatesKeysUnderActiveVersion(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		pii := envelope.CustomerPII
		cfg := Config{PoolSize: 4}
		a := e.open(cfg)
		b := e.reopen(cfg)

		if _, err := a.Rotate(ctx, pii); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Rewrap(ctx, pii, nil); err != nil {
			t.Fatal(err)
		}
		if err := a.Destroy(ctx, pii, 1); err != nil {
			t.Fatal(err)
		}

		v, dk := addOwner(t, b, e.h.DB, pii, "late")
		if ver := kekVersionOf(t, e.h.DB, dk.ID()); ver != 2 {
			t.Fatalf("the stale node wrapped a new data key under version %d, want 2", ver)
		}
		settle(b)
		for _, k := range []*Keystore{a, e.reopen(cfg)} {
			v.check(t, k)
		}
	})
}

// A node still holding the old root key after another node rotated it must
// not wrap anything under the old key: the keystore has to open afterwards.
func TestRotateOnNodeWithOldRoot(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		a := e.open(Config{})
		v, _ := addOwner(t, a, e.h.DB, envelope.Orders, "c1")
		b := e.reopen(Config{})
		if err := a.RotateRoot(ctx); err != nil {
			t.Fatal(err)
		}

		if _, err := b.Rotate(ctx, envelope.Orders); !errors.Is(err, errRootChanged) {
			t.Fatalf("Rotate on the node with the old root: %v, want errRootChanged", err)
		}
		restarted := e.reopen(Config{})
		if av, _ := restarted.ActiveVersion(envelope.Orders); av != 1 {
			t.Fatalf("the refused rotation left version %d active", av)
		}
		if _, err := restarted.Rotate(ctx, envelope.Orders); err != nil {
			t.Fatalf("Rotate after a restart: %v", err)
		}
		v.check(t, e.reopen(Config{}))
	})
}

// Root and KEK rotations running at once on one node never leave a KEK
// wrapped under a root key that is gone.
func TestRotateDuringRotateRoot(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		ks := e.open(Config{})
		v, _ := addOwner(t, ks, e.h.DB, envelope.Orders, "c1")
		var wg sync.WaitGroup
		wg.Go(func() {
			for range 10 {
				if err := ks.RotateRoot(ctx); err != nil {
					t.Errorf("RotateRoot: %v", err)
				}
			}
		})
		for _, d := range envelope.Domains {
			wg.Go(func() {
				for range 10 {
					if _, err := ks.Rotate(ctx, d); err != nil && !errors.Is(err, errRootChanged) {
						t.Errorf("Rotate %s: %v", d, err)
					}
				}
			})
		}
		wg.Wait()
		v.check(t, e.reopen(Config{}))
	})
}
