package keys

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/sqldb"
)

func TestDataKeyRoundTrip(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		ks := e.open(Config{PoolSize: 8})
		first, dk := addOwner(t, ks, e.h.DB, envelope.CustomerPII, "c1")
		first.check(t, ks)
		if seals, opens := ks.Operations(); seals != 1 || opens != 1 {
			t.Fatalf("Operations = %d seals, %d opens; want 1, 1", seals, opens)
		}

		h, err := envelope.Parse(first.ct)
		if err != nil {
			t.Fatal(err)
		}
		want := envelope.Header{Domain: envelope.CustomerPII, KeyID: dk.ID()}
		if h != want {
			t.Fatalf("header %+v, want %+v", h, want)
		}
		if id, err := ks.OwnerKeyID(ctx, envelope.CustomerPII, "c1"); err != nil || id != dk.ID() {
			t.Fatalf("OwnerKeyID = %d, %v; want %d", id, err, dk.ID())
		}

		// Later values of the owner are sealed with the assigned key.
		phone := sealFor(t, ks, envelope.CustomerPII, "c1", "phone")
		if keyID(t, phone.ct) != dk.ID() {
			t.Fatal("SealFor used another key than the assigned one")
		}
		phone.check(t, ks)
		if bytes.Equal(phone.ct[envelope.HeaderSize:], first.ct[envelope.HeaderSize:]) {
			t.Fatal("two seals gave the same ciphertext")
		}

		// Another process finds both through the database.
		ks2 := e.reopen(Config{})
		first.check(t, ks2)
		phone.check(t, ks2)
		sealFor(t, ks2, envelope.CustomerPII, "c1", "address").check(t, ks)

		if err := trySeal(ks, envelope.CustomerPII, "nobody"); !errors.Is(err, ErrNoActiveKey) {
			t.Fatalf("SealFor an unknown owner: %v, want ErrNoActiveKey", err)
		}
		if err := trySeal(ks, envelope.Orders, "c1"); !errors.Is(err, ErrNoActiveKey) {
			t.Fatalf("SealFor a domain the owner has no key in: %v, want ErrNoActiveKey", err)
		}
	})
}

func TestOpenRefuses(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ks := e.open(Config{PoolSize: 8})
		v, _ := addOwner(t, ks, e.h.DB, envelope.CustomerPII, "c1")
		other, _ := addOwner(t, ks, e.h.DB, envelope.CustomerPII, "c2")
		orders, _ := addOwner(t, ks, e.h.DB, envelope.Orders, "c3")

		// withHeader returns v.ct with its header fields replaced.
		withHeader := func(change func(p *envelope.Parts)) []byte {
			p, err := envelope.Split(bytes.Clone(v.ct))
			if err != nil {
				t.Fatal(err)
			}
			change(&p)
			return p.Bytes()
		}
		flipped := bytes.Clone(v.ct)
		flipped[len(flipped)-1] ^= 1

		cases := []struct {
			name string
			ct   []byte
			b    envelope.Binding
			want error
		}{
			{"another row", v.ct, bind("c2", "email"), envelope.ErrAuth},
			{"another column", v.ct, bind("c1", "phone"), envelope.ErrAuth},
			{"another table", v.ct, envelope.Binding{Table: "orders", Column: "email", Row: "c1"}, envelope.ErrAuth},
			{"altered ciphertext", flipped, v.b, envelope.ErrAuth},
			{"header names another owner's key", withHeader(func(p *envelope.Parts) {
				p.KeyID = keyID(t, other.ct)
			}), v.b, envelope.ErrAuth},
			{"header names another domain", withHeader(func(p *envelope.Parts) {
				p.Domain = envelope.Orders
			}), v.b, envelope.ErrAuth},
			{"header names a key of another domain", withHeader(func(p *envelope.Parts) {
				p.KeyID = keyID(t, orders.ct)
			}), v.b, envelope.ErrAuth},
			{"random key id", withHeader(func(p *envelope.Parts) {
				p.KeyID = binary.BigEndian.Uint64([]byte("randomid")) >> 1
			}), v.b, ErrUnknownKey},
			{"key id 0", withHeader(func(p *envelope.Parts) { p.KeyID = 0 }), v.b, ErrUnknownKey},
			{"a KEK version", withHeader(func(p *envelope.Parts) { p.KeyVersion = 1 }), v.b, ErrUnknownKey},
			{"truncated", v.ct[:envelope.HeaderSize+envelope.TagSize-1], v.b, envelope.ErrMalformed},
			{"empty", nil, v.b, envelope.ErrMalformed},
		}
		good := sealFor(t, ks, envelope.CustomerPII, "c1", "phone")
		for _, tc := range cases {
			pt, err := ks.Open(t.Context(), tc.ct, tc.b)
			if !errors.Is(err, tc.want) || pt != nil {
				t.Errorf("%s: Open = %q, %v; want %v", tc.name, pt, err, tc.want)
			}
			// Beside a value that opens, the row as a whole does not.
			pts, err := ks.OpenAll(t.Context(), [][]byte{good.ct, tc.ct}, []envelope.Binding{good.b, tc.b})
			if !errors.Is(err, tc.want) || pts != nil {
				t.Errorf("%s: OpenAll = %q, %v; want %v", tc.name, pts, err, tc.want)
			}
		}
	})
}

// TestOpenAll opens a row's values, of one key and of several, and refuses
// the whole row once one of its keys is destroyed.
func TestOpenAll(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		ks := e.open(Config{PoolSize: 8})
		email, _ := addOwner(t, ks, e.h.DB, envelope.CustomerPII, "c1")
		phone := sealFor(t, ks, envelope.CustomerPII, "c1", "phone")
		other, _ := addOwner(t, ks, e.h.DB, envelope.CustomerPII, "c2")
		row := []sealed{email, phone, other, phone}
		cts := make([][]byte, len(row))
		bs := make([]envelope.Binding, len(row))
		for i, v := range row {
			cts[i], bs[i] = v.ct, v.b
		}
		_, opensBefore := ks.Operations()
		for _, k := range []*Keystore{ks, e.reopen(Config{})} {
			pts, err := k.OpenAll(ctx, cts, bs)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range row {
				if !bytes.Equal(pts[i], v.pt) {
					t.Fatalf("value %d opened to %q, want %q", i, pts[i], v.pt)
				}
			}
		}
		if _, opens := ks.Operations(); opens != opensBefore+uint64(len(row)) {
			t.Fatalf("%d opens counted, want %d", opens-opensBefore, len(row))
		}

		if _, err := ks.OpenAll(ctx, cts, bs[:2]); err == nil {
			t.Fatal("OpenAll took 4 values for 2 places")
		}
		if _, err := ks.Shred(ctx, "c2"); err != nil {
			t.Fatal(err)
		}
		if pts, err := ks.OpenAll(ctx, cts, bs); !errors.Is(err, ErrKeyDestroyed) || pts != nil {
			t.Fatalf("OpenAll after shredding one owner = %q, %v; want ErrKeyDestroyed", pts, err)
		}
	})
}

func TestAssign(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		ks := e.open(Config{PoolSize: 8})
		assign := func(dk DataKey, owner string) error {
			return e.h.Write(ctx, func(tx sqldb.Tx) error { return ks.Assign(ctx, tx, dk, owner) })
		}

		// A key assigned in a transaction that rolls back stays free.
		dk, err := ks.NewDataKey(ctx, envelope.CustomerPII)
		if err != nil {
			t.Fatal(err)
		}
		rollback := errors.New("customer insert failed")
		err = e.h.Write(ctx, func(tx sqldb.Tx) error {
			if err := ks.Assign(ctx, tx, dk, "c1"); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("Write = %v, want the function's error", err)
		}
		if _, err := ks.OwnerKeyID(ctx, envelope.CustomerPII, "c1"); !errors.Is(err, ErrNoActiveKey) {
			t.Fatalf("a rolled-back assignment stuck: %v", err)
		}

		if err := assign(dk, "c1"); err != nil {
			t.Fatal(err)
		}
		ks.Assigned(dk, "c1")
		for _, owner := range []string{"c2", "c1"} {
			if err := assign(dk, owner); !errors.Is(err, ErrKeyTaken) {
				t.Fatalf("second assignment to %s: %v, want ErrKeyTaken", owner, err)
			}
		}
		if _, err := ks.OwnerKeyID(ctx, envelope.CustomerPII, "c2"); !errors.Is(err, ErrNoActiveKey) {
			t.Fatalf("a refused assignment stuck: %v", err)
		}
		if id, err := ks.OwnerKeyID(ctx, envelope.CustomerPII, "c1"); err != nil || id != dk.ID() {
			t.Fatalf("OwnerKeyID(c1) = %d, %v; want %d", id, err, dk.ID())
		}

		// The pool never hands out the same key twice.
		seen := map[uint64]bool{dk.ID(): true}
		for range 40 {
			dk, err := ks.NewDataKey(ctx, envelope.CustomerPII)
			if err != nil {
				t.Fatal(err)
			}
			if seen[dk.ID()] {
				t.Fatalf("data key %d handed out twice", dk.ID())
			}
			seen[dk.ID()] = true
		}
	})
}

func TestShred(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		cfg := Config{PoolSize: 8, SealCap: 100, ReserveBlock: 10}
		ks := e.open(cfg)

		var victim, kept []sealed
		for _, owner := range []string{"a", "b"} {
			pii, _ := addOwner(t, ks, e.h.DB, envelope.CustomerPII, owner)
			notes, _ := addOwner(t, ks, e.h.DB, envelope.Orders, owner)
			list := []sealed{pii, notes}
			// Enough seals to retire a's first key at the seal cap: the
			// retired key is shredded too.
			for i := range 120 {
				list = append(list, sealFor(t, ks, envelope.CustomerPII, owner, fmt.Sprint("f", i)))
			}
			if owner == "a" {
				victim = list
			} else {
				kept = list
			}
		}
		if keyID(t, victim[0].ct) == keyID(t, victim[len(victim)-1].ct) {
			t.Fatal("setup: a's key was not replaced at the seal cap")
		}

		n, err := ks.Shred(ctx, "a")
		if err != nil || n != 3 {
			t.Fatalf("Shred = %d, %v; want 3 keys (two of customer-pii, one of orders)", n, err)
		}
		ks2 := e.reopen(cfg)
		for _, k := range []*Keystore{ks, ks2} {
			for _, v := range victim {
				if pt, err := k.Open(ctx, v.ct, v.b); !errors.Is(err, ErrKeyDestroyed) || pt != nil {
					t.Fatalf("open %s after shred = %q, %v; want ErrKeyDestroyed", v.b.Column, pt, err)
				}
			}
			for _, v := range kept {
				v.check(t, k)
			}
			if err := trySeal(k, envelope.CustomerPII, "a"); !errors.Is(err, ErrNoActiveKey) {
				t.Fatalf("SealFor a shredded owner: %v, want ErrNoActiveKey", err)
			}
		}

		// No material is left in the database.
		var left int64
		err = e.h.Read(ctx, func(tx sqldb.Tx) error {
			return tx.QueryRow(ctx, "SELECT COUNT(*) FROM ks_data_keys"+
				" WHERE owner = ? AND (wrapped IS NOT NULL OR state <> ?)", "a", int64(Destroyed)).Scan(&left)
		})
		if err != nil || left != 0 {
			t.Fatalf("%d of a's keys still have material (%v)", left, err)
		}
		if n, err := ks.Shred(ctx, "a"); err != nil || n != 0 {
			t.Fatalf("second Shred = %d, %v; want 0", n, err)
		}
	})
}

// A shred on one node reaches another node's cache within CacheTTL.
func TestShredReachesOtherNodes(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		ks := e.open(Config{PoolSize: 8})
		v, _ := addOwner(t, ks, e.h.DB, envelope.CustomerPII, "a")
		clock := newFakeClock()
		other := e.reopen(Config{CacheTTL: time.Minute, Now: clock.Now})
		v.check(t, other) // now cached on the other node
		sealFor(t, other, envelope.CustomerPII, "a", "phone")

		if _, err := ks.Shred(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Minute)
		if _, err := other.Open(ctx, v.ct, v.b); !errors.Is(err, ErrKeyDestroyed) {
			t.Fatalf("other node after CacheTTL: %v, want ErrKeyDestroyed", err)
		}
		if err := trySeal(other, envelope.CustomerPII, "a"); !errors.Is(err, ErrNoActiveKey) {
			t.Fatalf("other node seals for a shredded owner after CacheTTL: %v", err)
		}
	})
}

func TestSealNoncesNeverRepeat(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	forEngines(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		cfg := Config{ReserveBlock: 1000}
		ks := e.open(cfg)
		_, dk := addOwner(t, ks, e.h.DB, envelope.CustomerPII, "c1")
		b := bind("c1", "email")
		pt := []byte("ada@example.com")

		nonces := make(map[[envelope.NonceSize]byte]struct{}, n)
		for i := range n {
			ct, err := ks.SealFor(ctx, envelope.CustomerPII, "c1", b, pt)
			if err != nil {
				t.Fatalf("seal %d: %v", i, err)
			}
			p, err := envelope.Split(ct)
			if err != nil {
				t.Fatal(err)
			}
			if p.KeyID != dk.ID() {
				t.Fatalf("seal %d used key %d, want %d", i, p.KeyID, dk.ID())
			}
			if _, dup := nonces[p.Nonce]; dup {
				t.Fatalf("nonce repeated at seal %d", i)
			}
			nonces[p.Nonce] = struct{}{}
		}
		sealsDone := uint64(n) + 1 // and the first value, in addOwner
		settle(ks)

		// After a restart the durable count covers every seal made, and
		// overcounts by at most one block.
		ks2 := e.reopen(cfg)
		got, err := ks2.DataKeySeals(ctx, dk.ID())
		if err != nil {
			t.Fatal(err)
		}
		if got < sealsDone || got > sealsDone+cfg.ReserveBlock {
			t.Fatalf("DataKeySeals = %d after %d seals, want [%d, %d]",
				got, sealsDone, sealsDone, sealsDone+cfg.ReserveBlock)
		}
		// The restarted keystore counts on from there.
		sealFor(t, ks2, envelope.CustomerPII, "c1", "phone")
		if after, _ := ks2.DataKeySeals(ctx, dk.ID()); after <= got {
			t.Fatalf("DataKeySeals after a seal on restart = %d, want more than %d", after, got)
		}
		if _, err := ks2.DataKeySeals(ctx, 12345); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("DataKeySeals of an unknown key: %v, want ErrUnknownKey", err)
		}
	})
}

// trySeal seals a value for owner and returns only the error.
func trySeal(ks *Keystore, d Domain, owner string) error {
	_, err := ks.SealFor(context.Background(), d, owner, bind(owner, "email"), []byte("x"))
	return err
}

// countSeals returns, per key id, how many of vs were sealed with it.
func countSeals(t *testing.T, vs []sealed) map[uint64]uint64 {
	t.Helper()
	n := map[uint64]uint64{}
	for _, v := range vs {
		n[keyID(t, v.ct)]++
	}
	return n
}

func TestSealCapReplacesKey(t *testing.T) {
	cases := []struct {
		name      string
		cfg       Config
		seals     int
		wantKeys  int
		wantFirst uint64 // seals made with the first key, counting addOwner's
	}{
		{"cap 100", Config{PoolSize: 8, SealCap: 100, ReserveBlock: 10}, 250, 3, 100},
		{"block not dividing the cap", Config{PoolSize: 8, SealCap: 100, ReserveBlock: 7}, 250, 3, 100},
		{"cap below the initial reservation", Config{PoolSize: 8, SealCap: 10, ReserveBlock: 5}, 50, 5, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forEngines(t, func(t *testing.T, e *env) {
				ctx := t.Context()
				ks := e.open(tc.cfg)
				first, dk := addOwner(t, ks, e.h.DB, envelope.CustomerPII, "c1")
				all := []sealed{first}
				for i := range tc.seals - 1 {
					all = append(all, sealFor(t, ks, envelope.CustomerPII, "c1", fmt.Sprint("f", i)))
				}

				id, err := ks.OwnerKeyID(ctx, envelope.CustomerPII, "c1")
				if err != nil || id == dk.ID() {
					t.Fatalf("OwnerKeyID = %d, %v; want a key other than the first (%d)", id, err, dk.ID())
				}
				counts := countSeals(t, all)
				if len(counts) != tc.wantKeys || counts[dk.ID()] != tc.wantFirst {
					t.Fatalf("seals per key %v, want %d keys and %d with the first", counts, tc.wantKeys, tc.wantFirst)
				}
				for id, c := range counts {
					if c > tc.cfg.SealCap {
						t.Errorf("key %d sealed %d values, over the cap of %d", id, c, tc.cfg.SealCap)
					}
					if rec, err := ks.DataKeySeals(ctx, id); err != nil || rec < c || rec > tc.cfg.SealCap {
						t.Errorf("key %d: DataKeySeals = %d, %v after %d seals; want [%d, %d]",
							id, rec, err, c, c, tc.cfg.SealCap)
					}
				}

				ks2 := e.reopen(tc.cfg)
				for _, v := range all {
					v.check(t, ks)
					v.check(t, ks2)
				}
			})
		})
	}
}

// Two nodes sealing for one owner together never exceed the cap: each
// counts what the other reserved.
func TestSealCapAcrossNodes(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		cfg := Config{PoolSize: 8, SealCap: 100, ReserveBlock: 10}
		a := e.open(cfg)
		first, dk := addOwner(t, a, e.h.DB, envelope.CustomerPII, "c1")
		b := e.reopen(cfg)
		all := []sealed{first}
		seal := func(ks *Keystore, n int) {
			for range n {
				all = append(all, sealFor(t, ks, envelope.CustomerPII, "c1", fmt.Sprint("f", len(all))))
			}
		}
		// a uses the key's initial reservation while b reserves blocks
		// after it and keeps some unused; then each runs on past the cap.
		seal(a, initialReserve-1)
		seal(b, 21)
		seal(a, 15)
		seal(b, 15)
		seal(a, 5)

		counts := countSeals(t, all)
		if counts[dk.ID()] > cfg.SealCap {
			t.Fatalf("the first key sealed %d values, over the cap of %d", counts[dk.ID()], cfg.SealCap)
		}
		if len(counts) < 2 {
			t.Fatalf("the key was never replaced: %v", counts)
		}
		for _, v := range all {
			v.check(t, a)
		}
	})
}

// Nodes reserving seals of one key at the same time never both get the same
// block: the durable count covers every seal made on either.
func TestConcurrentReservations(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		cfg := Config{PoolSize: 8, ReserveBlock: 1}
		first, dk := addOwner(t, e.open(cfg), e.h.DB, envelope.CustomerPII, "c1")
		nodes := []*Keystore{e.reopen(cfg), e.reopen(cfg), e.reopen(cfg)}
		const perNode = 200

		results := make([][]sealed, len(nodes))
		var wg sync.WaitGroup
		for i, ks := range nodes {
			wg.Go(func() {
				for j := range perNode {
					v := sealed{b: bind("c1", fmt.Sprint("n", i, "f", j)), pt: []byte("x")}
					ct, err := ks.SealFor(t.Context(), envelope.CustomerPII, "c1", v.b, v.pt)
					if err != nil {
						t.Errorf("node %d seal %d: %v", i, j, err)
						return
					}
					v.ct = ct
					results[i] = append(results[i], v)
				}
			})
		}
		wg.Wait()

		all := []sealed{first}
		for _, r := range results {
			all = append(all, r...)
		}
		made := countSeals(t, all)[dk.ID()]
		rec, err := nodes[0].DataKeySeals(t.Context(), dk.ID())
		if err != nil {
			t.Fatal(err)
		}
		if rec < made {
			t.Fatalf("%d seals made with the key, only %d recorded", made, rec)
		}
	})
}

func TestSweepOrphans(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		clock := newFakeClock()
		cfg := Config{PoolSize: 8, Now: clock.Now}
		ks := e.open(cfg)
		v, _ := addOwner(t, ks, e.h.DB, envelope.CustomerPII, "c1")
		settle(ks)
		pooled := keyInfo(t, ks, envelope.CustomerPII, 1).DataKeys - 1
		if pooled <= 0 {
			t.Fatal("setup: no unassigned keys in the pool")
		}

		if n, err := ks.SweepOrphans(ctx, sqldb.Micros(clock.Now())); err != nil || n != 0 {
			t.Fatalf("SweepOrphans of keys not older than the cutoff = %d, %v; want 0", n, err)
		}
		n, err := ks.SweepOrphans(ctx, sqldb.Micros(clock.Now().Add(time.Second)))
		if err != nil || n != pooled {
			t.Fatalf("SweepOrphans = %d, %v; want the %d unassigned keys", n, err, pooled)
		}
		if left := keyInfo(t, ks, envelope.CustomerPII, 1).DataKeys; left != 1 {
			t.Fatalf("%d data keys left, want the assigned one", left)
		}
		v.check(t, e.reopen(cfg))
	})
}
