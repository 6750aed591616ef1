package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

func TestCheckSealedRefusesClearPII(t *testing.T) {
	env := envelope.Parts{Header: envelope.Header{Domain: envelope.CustomerPII, KeyID: 1},
		Ciphertext: make([]byte, envelope.TagSize)}.Bytes()
	cases := []struct {
		name  string
		table string
		cols  []column
		want  error
	}{
		{"clear email", "customers", []column{{"email", []byte("ada@example.com")}}, ErrUnsealed},
		{"string email", "customers", []column{{"email", "ada@example.com"}}, ErrUnsealed},
		{"clear notes", "orders", []column{{"notes", []byte("gate code 1234")}}, ErrUnsealed},
		{"sealed email", "customers", []column{{"email", env}}, nil},
		{"absent notes", "orders", []column{{"notes", []byte(nil)}}, nil},
		{"public field", "products", []column{{"name", "Mug"}}, nil},
	}
	for _, c := range cases {
		err := checkSealed(c.table, c.cols)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	if err := checkSealed("customers", []column{{"secret_column", "x"}}); err == nil {
		t.Error("a column missing from the data map was accepted")
	}
}

// TestInsertRefusesClearPII goes through the real write path: nothing is
// stored when a pii field is not sealed.
func TestInsertRefusesClearPII(t *testing.T) {
	ctx := context.Background()
	h := sqldbtest.OpenSQLite(t)
	ks, err := keys.Open(ctx, h.DB, &keys.FileProvider{Path: filepath.Join(t.TempDir(), "root.key")}, keys.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, h.DB, ks)
	if err != nil {
		t.Fatal(err)
	}
	row := &customerRow{ID: newID("cus"), Name: []byte("Ada"), Email: []byte("ada@example.com"),
		Phone: []byte(""), Address: []byte("{}"), EmailBidx: []byte("x"), Version: 1}
	err = s.write(ctx, func(w *wtx) error { return w.insert(ctx, "customers", row.columns()) })
	if !errors.Is(err, ErrUnsealed) {
		t.Fatalf("err = %v, want ErrUnsealed", err)
	}
	p, _ := s.ListCustomers(ctx, "", 10)
	if len(p.Items) != 0 {
		t.Fatal("an unsealed row was stored")
	}
}

func TestIDs(t *testing.T) {
	id := newID("cus")
	if !validID("cus", id) || validID("ord", id) || validID("cus", id+"a") || validID("cus", "cus_"+id[4:29]+"!") {
		t.Fatalf("validID wrong for %q", id)
	}
	if newID("cus") == id {
		t.Fatal("ids repeat")
	}
}
