package backup_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/backup"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
)

// env is a live deployment: database, keystore, store and shipper.
type env struct {
	t    testing.TB
	ctx  context.Context
	h    *sqldbtest.Handle
	root string
	ks   *keys.Keystore
	st   *store.Store
	obj  objstore.Store
	sh   *backup.Shipper

	mu    sync.Mutex
	clock time.Time
}

func newEnv(t testing.TB, eng sqldbtest.Engine, obj objstore.Store, opts backup.Options) *env {
	return newEnvClock(t, eng, obj, opts, false)
}

// newEnvClock is newEnv with, when fake is set, a clock that the store
// advances by a millisecond per change and the shipper reads.
func newEnvClock(t testing.TB, eng sqldbtest.Engine, obj objstore.Store, opts backup.Options, fake bool) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), h: eng.Open(t), root: filepath.Join(t.TempDir(), "root.key"), obj: obj,
		clock: time.Now().UTC().Truncate(time.Second)}
	ks, err := keys.Open(e.ctx, e.h.DB, &keys.FileProvider{Path: e.root}, keys.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ks.Close)
	st, err := store.Open(e.ctx, e.h.DB, ks)
	if err != nil {
		t.Fatal(err)
	}
	e.ks, e.st = ks, st
	if fake {
		e.useFakeClock()
		opts.Now = e.now
	}
	if e.sh, err = backup.NewShipper(e.ctx, st, ks, obj, opts); err != nil {
		t.Fatal(err)
	}
	return e
}

func newLocal(t testing.TB) *objstore.Local {
	t.Helper()
	l, err := objstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// useFakeClock gives every change its own millisecond, so restoring to a
// change's time separates it from the next one.
func (e *env) useFakeClock() {
	e.st.SetClock(func() time.Time {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.clock = e.clock.Add(time.Millisecond)
		return e.clock
	})
}

func (e *env) now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.clock
}

func (e *env) ship() {
	e.t.Helper()
	if _, err := e.sh.ShipOnce(e.ctx); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) snapshot() backup.SnapshotInfo {
	e.t.Helper()
	info, err := e.sh.Snapshot(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return info
}

func (e *env) digest() (int64, map[string]store.TableDigest) {
	e.t.Helper()
	pos, d, err := store.Digest(e.ctx, e.h.DB)
	if err != nil {
		e.t.Fatal(err)
	}
	return pos, d
}

// restoreOpts restores this deployment's backups into target.
func (e *env) restoreOpts(target sqldb.DB) backup.RestoreOptions {
	return backup.RestoreOptions{
		Objects: e.obj, Deployment: e.sh.Deployment(), Target: target,
		Provider: func(sqldb.DB) (keys.Provider, error) { return &keys.FileProvider{Path: e.root}, nil },
	}
}

// restore restores into a new database of eng.
func (e *env) restore(eng sqldbtest.Engine, to time.Time, toPos int64) (sqldb.DB, backup.Summary, error) {
	e.t.Helper()
	target := eng.Open(e.t)
	o := e.restoreOpts(target.DB)
	o.To, o.ToPos = to, toPos
	sum, err := backup.Restore(e.ctx, o)
	return target.DB, sum, err
}

// workload runs random creates, updates and deletes.
type workload struct {
	e         *env
	rng       *rand.Rand
	customers []*store.Customer
	products  []*store.Product
	orders    []*store.Order
	card      string // a live vault token the orders pay with
	n         int
}

func newWorkload(e *env, seed uint64) *workload {
	return &workload{e: e, rng: rand.New(rand.NewPCG(seed, seed+1))}
}

func (w *workload) step() {
	w.e.t.Helper()
	ctx, s := w.e.ctx, w.e.st
	w.n++
	var err error
	switch op := w.rng.IntN(10); {
	case op < 3 || len(w.customers) == 0:
		var c *store.Customer
		c, err = s.CreateCustomer(ctx, store.NewCustomer{Name: fmt.Sprintf("Customer %d", w.n),
			Email: fmt.Sprintf("c%d-%d@example.com", w.n, w.rng.Int()), Phone: "+33 1 23 45 67 89",
			Address: store.Address{Line1: fmt.Sprintf("%d rue de Rivoli", w.n), City: "Paris",
				PostalCode: "75001", Country: "FR"}})
		if err == nil {
			w.customers = append(w.customers, c)
		}
	case op < 5 || len(w.products) == 0:
		var p *store.Product
		p, err = s.CreateProduct(ctx, store.NewProduct{SKU: fmt.Sprintf("SKU-%d", w.n), Name: "Thing",
			Description: "A thing", Price: int64(100 + w.rng.IntN(1000)), Currency: "EUR", Stock: 1000})
		if err == nil {
			w.products = append(w.products, p)
		}
	case op < 6:
		i := w.rng.IntN(len(w.customers))
		name := fmt.Sprintf("Renamed %d", w.n)
		var c *store.Customer
		c, err = s.UpdateCustomer(ctx, w.customers[i].ID, w.customers[i].Version, store.CustomerPatch{Name: &name})
		if err == nil {
			w.customers[i] = c
		}
	case op < 7:
		i := w.rng.IntN(len(w.products))
		price := int64(w.rng.IntN(5000))
		var p *store.Product
		if p, err = s.GetProduct(ctx, w.products[i].ID); err == nil {
			p, err = s.UpdateProduct(ctx, p.ID, p.Version, store.ProductPatch{Price: &price})
		}
		if err == nil {
			w.products[i] = p
		}
	case op < 9:
		c := w.customers[w.rng.IntN(len(w.customers))]
		p := w.products[w.rng.IntN(len(w.products))]
		if w.card == "" {
			tok, err := s.PutCard(ctx, store.NewCard{PAN: "4111111111111111", ExpMonth: 12, ExpYear: 2040,
				Brand: "visa", Fingerprint: []byte("workload card")})
			if err != nil {
				w.e.t.Fatalf("workload card: %v", err)
			}
			w.card = tok.Token
		}
		var o *store.Order
		o, err = s.CreateOrder(ctx, store.NewOrder{CustomerID: c.ID, Currency: "EUR", PaymentToken: w.card,
			Notes: "leave at the door", Lines: []store.NewOrderLine{{SKU: p.SKU, Quantity: 1}}})
		if err == nil {
			w.orders = append(w.orders, o)
		}
	default:
		if w.rng.IntN(2) == 0 && len(w.customers) > 1 {
			i := w.rng.IntN(len(w.customers))
			err = s.ShredCustomer(ctx, w.customers[i].ID)
			w.customers = append(w.customers[:i], w.customers[i+1:]...)
		} else if len(w.products) > 1 {
			i := w.rng.IntN(len(w.products))
			err = s.DeleteProduct(ctx, w.products[i].ID)
			w.products = append(w.products[:i], w.products[i+1:]...)
		}
	}
	if err != nil {
		w.e.t.Fatalf("workload step %d: %v", w.n, err)
	}
}
