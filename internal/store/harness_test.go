package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
)

// env is a store on one engine with its keystore.
type env struct {
	t     testing.TB
	h     *sqldbtest.Handle
	root  string
	ks    *keys.Keystore
	s     *store.Store
	ctx   context.Context
	count int
}

func newEnv(t testing.TB, eng sqldbtest.Engine, cfg keys.Config) *env {
	t.Helper()
	e := &env{t: t, h: eng.Open(t), root: filepath.Join(t.TempDir(), "root.key"), ctx: context.Background()}
	e.open(e.h.DB, cfg)
	return e
}

func (e *env) open(db sqldb.DB, cfg keys.Config) {
	e.t.Helper()
	ks, err := keys.Open(e.ctx, db, &keys.FileProvider{Path: e.root}, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(ks.Close)
	s, err := store.Open(e.ctx, db, ks)
	if err != nil {
		e.t.Fatal(err)
	}
	e.ks, e.s = ks, s
}

// reopen opens a second keystore and store on the same database, as a
// restarted process would.
func (e *env) reopen() *env {
	e.t.Helper()
	n := &env{t: e.t, h: e.h, root: e.root, ctx: e.ctx}
	n.open(e.h.Reopen(e.t), keys.Config{})
	return n
}

func (e *env) customer() *store.Customer {
	e.t.Helper()
	e.count++
	c, err := e.s.CreateCustomer(e.ctx, store.NewCustomer{
		Name:  fmt.Sprintf("Ada Lovelace %d", e.count),
		Email: fmt.Sprintf("Ada.%d.%p@Example.com", e.count, e),
		Phone: "+44 20 7946 0958",
		Address: store.Address{Line1: "12 St James's Square", City: "London",
			PostalCode: "SW1Y 4JH", Country: "GB"},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) product(sku string, price, stock int64) *store.Product {
	e.t.Helper()
	p, err := e.s.CreateProduct(e.ctx, store.NewProduct{SKU: sku, Name: "Product " + sku,
		Description: "A fine thing", Price: price, Currency: "EUR", Stock: stock})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// forEachEngine runs fn against SQLite and, when configured, PostgreSQL.
func forEachEngine(t *testing.T, fn func(t *testing.T, eng sqldbtest.Engine)) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) { fn(t, eng) })
	}
}

// sealedColumn reads a raw sealed column straight from the database.
func (e *env) sealedColumn(table, column, id string) []byte {
	e.t.Helper()
	var b []byte
	err := e.s.DB().Read(e.ctx, func(tx sqldb.Tx) error {
		return tx.QueryRow(e.ctx, "SELECT "+column+" FROM "+table+" WHERE id = ?", id).Scan(&b)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) setColumn(table, column, id string, v []byte) {
	e.t.Helper()
	err := e.s.DB().Write(e.ctx, func(tx sqldb.Tx) error {
		_, err := tx.Exec(e.ctx, "UPDATE "+table+" SET "+column+" = ? WHERE id = ?", v, id)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
}
