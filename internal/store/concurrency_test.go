package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
)

func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng sqldbtest.Engine) {
		e := newEnv(t, eng, keys.Config{})
		p := e.product("CNT-1", 100, 0)
		const workers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					for {
						cur, err := e.s.GetProduct(e.ctx, p.ID)
						if err != nil {
							errs <- err
							return
						}
						stock := cur.Stock + 1
						_, err = e.s.UpdateProduct(e.ctx, p.ID, cur.Version, store.ProductPatch{Stock: &stock})
						if errors.Is(err, store.ErrConflict) {
							continue
						}
						if err != nil {
							errs <- err
							return
						}
						break
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		got, _ := e.s.GetProduct(e.ctx, p.ID)
		if got.Stock != workers*each {
			t.Fatalf("stock = %d, want %d: updates were lost", got.Stock, workers*each)
		}
	})
}

func TestConcurrentOrdersNeverOversell(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng sqldbtest.Engine) {
		e := newEnv(t, eng, keys.Config{})
		c := e.customer()
		e.product("LIM-1", 500, 50)
		e.product("LIM-2", 700, 1000)
		var ok, short atomic.Int64
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 10 {
					lines := []store.NewOrderLine{{SKU: "LIM-1", Quantity: 1}, {SKU: "LIM-2", Quantity: 1}}
					if (w+i)%2 == 1 {
						lines[0], lines[1] = lines[1], lines[0]
					}
					_, err := e.s.CreateOrder(e.ctx, store.NewOrder{CustomerID: c.ID, Currency: "EUR", Lines: lines})
					switch {
					case err == nil:
						ok.Add(1)
					case errors.Is(err, store.ErrInsufficientStock):
						short.Add(1)
					default:
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		p1, _ := e.s.GetProductBySKU(e.ctx, "LIM-1")
		p2, _ := e.s.GetProductBySKU(e.ctx, "LIM-2")
		if ok.Load() != 50 || short.Load() != 30 || p1.Stock != 0 || p2.Stock != 950 {
			t.Fatalf("%d placed, %d refused, stock %d and %d", ok.Load(), short.Load(), p1.Stock, p2.Stock)
		}
	})
}

// TestChangeLogHasNoGaps follows the log while writers commit concurrently:
// every read must continue exactly where the previous one stopped, so a
// follower never skips a change that commits later with a lower position.
func TestChangeLogHasNoGaps(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng sqldbtest.Engine) {
		e := newEnv(t, eng, keys.Config{})
		const writers, each = 8, 40
		var wg sync.WaitGroup
		done := make(chan struct{})
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					var err error
					if i%2 == 0 {
						_, err = e.s.CreateProduct(e.ctx, store.NewProduct{SKU: fmt.Sprintf("G-%d-%d", w, i),
							Name: "n", Currency: "EUR"})
					} else {
						_, err = e.s.CreateCustomer(e.ctx, store.NewCustomer{Name: "n",
							Email: fmt.Sprintf("g%d.%d@example.com", w, i)})
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		go func() { wg.Wait(); close(done) }()

		var last int64
		reads := 0
		follow := func() {
			cs, err := e.s.ReadChanges(e.ctx, last, 50)
			if err != nil {
				t.Fatal(err)
			}
			reads++
			for _, c := range cs {
				if c.Pos != last+1 {
					t.Fatalf("follower at %d read position %d: a change was skipped", last, c.Pos)
				}
				last = c.Pos
			}
		}
	loop:
		for {
			select {
			case <-done:
				break loop
			default:
				follow()
			}
		}
		for i := 0; i < 100 && last < writers*each; i++ {
			follow()
		}
		if last != writers*each {
			t.Fatalf("follower reached %d of %d", last, writers*each)
		}
		t.Logf("%d reads while writing", reads)
	})
}

// TestRotationDuringWrites rotates and rewraps the customer key, and rotates
// the blind-index key and re-indexes, while writers and readers run.
func TestRotationDuringWrites(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng sqldbtest.Engine) {
		e := newEnv(t, eng, keys.Config{PoolSize: 16})
		run := 10 * time.Second
		if testing.Short() {
			run = 2 * time.Second
		}
		ctx, cancel := context.WithTimeout(e.ctx, run)
		defer cancel()
		e.product("ROT-1", 100, 1_000_000)

		var mu sync.Mutex
		var created []*store.Customer
		var reads, failed, writes atomic.Int64
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					if w%2 == 0 || i%4 == 0 {
						c, err := e.s.CreateCustomer(e.ctx, store.NewCustomer{Name: "Rot",
							Email: fmt.Sprintf("rot%d.%d@example.com", w, i), Phone: "+1 555 0100"})
						if err != nil {
							t.Errorf("create: %v", err)
							return
						}
						if _, err := e.s.CreateOrder(e.ctx, store.NewOrder{CustomerID: c.ID, Currency: "EUR",
							Lines: []store.NewOrderLine{{SKU: "ROT-1", Quantity: 1}}, Notes: "n"}); err != nil {
							t.Errorf("order: %v", err)
							return
						}
						writes.Add(2)
						mu.Lock()
						created = append(created, c)
						mu.Unlock()
						continue
					}
					mu.Lock()
					if len(created) == 0 {
						mu.Unlock()
						continue
					}
					c := created[i%len(created)]
					mu.Unlock()
					reads.Add(2)
					got, err := e.s.GetCustomer(e.ctx, c.ID)
					if err != nil || got.Email != c.Email {
						failed.Add(1)
						t.Errorf("read %s: %v", c.ID, err)
					}
					if _, err := e.s.FindCustomerByEmail(e.ctx, c.Email); err != nil {
						failed.Add(1)
						t.Errorf("lookup %s: %v", c.ID, err)
					}
				}
			}()
		}

		rotations := 0
		for ctx.Err() == nil {
			for _, d := range []envelope.Domain{envelope.CustomerPII, envelope.BlindIndex} {
				if _, err := e.ks.Rotate(e.ctx, d); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := e.ks.Rewrap(e.ctx, envelope.CustomerPII, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := e.s.ReindexEmails(e.ctx, nil); err != nil {
				t.Fatal(err)
			}
			rotations++
			time.Sleep(200 * time.Millisecond)
		}
		wg.Wait()
		if failed.Load() != 0 {
			t.Fatalf("%d of %d reads failed", failed.Load(), reads.Load())
		}
		// Afterwards everything is on the newest versions and old ones can go.
		if _, err := e.ks.Rewrap(e.ctx, envelope.CustomerPII, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.ReindexEmails(e.ctx, nil); err != nil {
			t.Fatal(err)
		}
		for _, d := range []envelope.Domain{envelope.CustomerPII, envelope.BlindIndex} {
			active, _ := e.ks.ActiveVersion(d)
			for v := uint32(1); v < active; v++ {
				if err := e.ks.Destroy(e.ctx, d, v); err != nil {
					t.Fatalf("destroy %s v%d: %v", d, v, err)
				}
			}
		}
		for _, c := range created {
			if got, err := e.s.FindCustomerByEmail(e.ctx, c.Email); err != nil || got.ID != c.ID {
				t.Fatalf("after destroying old versions, %s: %v", c.ID, err)
			}
		}
		t.Logf("%d rotations, %d writes, %d reads, 0 failed", rotations, writes.Load(), reads.Load())
	})
}

func TestMigrationsFromEveryVersion(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng sqldbtest.Engine) {
		for k := 0; k <= len(store.Migrations); k++ {
			t.Run(fmt.Sprintf("from-%d", k), func(t *testing.T) {
				h := eng.Open(t)
				ctx := context.Background()
				if err := h.Migrate(ctx, store.Component, store.Migrations[:k]); err != nil {
					t.Fatal(err)
				}
				if k >= 1 {
					// Data written by the older schema survives the upgrade.
					err := h.Write(ctx, func(tx sqldb.Tx) error {
						_, err := tx.Exec(ctx, "INSERT INTO products (id, sku, name, description, price,"+
							" currency, stock, created_at, updated_at, version) VALUES"+
							" ('prd_aaaaaaaaaaaaaaaaaaaaaaaaaa', 'OLD-1', 'old', '', 5, 'EUR', 1, 0, 0, 1)")
						return err
					})
					if err != nil {
						t.Fatal(err)
					}
				}
				e := &env{t: t, h: h, root: t.TempDir() + "/root.key", ctx: ctx}
				e.open(h.DB, keys.Config{})
				v, err := sqldb.AppliedVersion(ctx, h.DB, store.Component)
				if err != nil || v != len(store.Migrations) {
					t.Fatalf("applied version %d, %v", v, err)
				}
				c := e.customer()
				if _, err := e.s.FindCustomerByEmail(ctx, c.Email); err != nil {
					t.Fatal(err)
				}
				if k >= 1 {
					if p, err := e.s.GetProductBySKU(ctx, "OLD-1"); err != nil || p.Price != 5 {
						t.Fatalf("old product: %v, %v", p, err)
					}
				}
				// Migrating again is a no-op.
				if err := h.Migrate(ctx, store.Component, store.Migrations); err != nil {
					t.Fatal(err)
				}
			})
		}
	})
}

// TestFullDiskFailsCleanly fills the SQLite database to its page limit: the
// write that does not fit fails with an error and leaves nothing behind, and
// the database stays usable.
func TestFullDiskFailsCleanly(t *testing.T) {
	e := newEnv(t, sqldbtest.Engines()[0], keys.Config{PoolSize: 4})
	ctx := e.ctx
	var pages int64
	err := e.s.DB().Write(ctx, func(tx sqldb.Tx) error {
		if err := tx.QueryRow(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages+8))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var full error
	made := 0
	for i := 0; i < 10000 && full == nil; i++ {
		_, full = e.s.CreateProduct(ctx, store.NewProduct{SKU: fmt.Sprintf("FULL-%d", i), Name: "n",
			Description: string(make([]byte, 2000)), Currency: "EUR"})
		if full == nil {
			made++
		}
	}
	if full == nil {
		t.Fatal("the database never filled")
	}
	p, err := e.s.ListProducts(ctx, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	changes, _ := e.s.ReadChanges(ctx, 0, 0)
	if len(p.Items) != made || len(changes) != made {
		t.Fatalf("%d products and %d changes after %d acknowledged writes", len(p.Items), len(changes), made)
	}
	if _, err := e.s.GetProductBySKU(ctx, fmt.Sprintf("FULL-%d", made)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the failed write left a row: %v", err)
	}
	t.Logf("full after %d writes: %v", made, full)
}
