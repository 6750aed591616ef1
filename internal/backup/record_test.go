package backup_test

import (
	"errors"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/backup"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
)

// TestRestoreRecord brings a changed customer and a customer whose row
// was deleted behind the store's back into the live store as they were,
// refuses an erased one and one the backups never held, and checks the
// writes reach the backups like any other.
func TestRestoreRecord(t *testing.T) {
	eng := sqldbtest.Engines()[0]
	e := newEnv(t, eng, newLocal(t), backup.Options{})
	w := newWorkload(e, 17)
	for range 20 {
		w.step()
	}
	changed, deleted, erased := w.customers[0], w.customers[1], w.customers[2]
	e.snapshot()
	e.ship()
	time.Sleep(5 * time.Millisecond)
	asOf := time.Now().UTC()
	time.Sleep(5 * time.Millisecond)

	name, email := "Someone Else", "someone.else@example.com"
	cur, err := e.st.GetCustomer(e.ctx, changed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.UpdateCustomer(e.ctx, changed.ID, cur.Version,
		store.CustomerPatch{Name: &name, Email: &email}); err != nil {
		t.Fatal(err)
	}
	err = e.h.DB.Write(e.ctx, func(tx sqldb.Tx) error {
		_, err := tx.Exec(e.ctx, "DELETE FROM customers WHERE id = ?", deleted.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.ShredCustomer(e.ctx, erased.ID); err != nil {
		t.Fatal(err)
	}

	r := newRunner(t, e, eng)
	res, err := r.RestoreRecord(e.ctx, "customers", changed.ID, asOf)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.st.GetCustomer(e.ctx, changed.ID)
	if err != nil || got.Name != changed.Name || got.Email != changed.Email || res.Created ||
		res.Version != got.Version || got.Version != cur.Version+2 {
		t.Fatalf("changed customer after restore: %+v, %v; result %+v", got, err, res)
	}
	if byEmail, err := e.st.FindCustomerByEmail(e.ctx, changed.Email); err != nil || byEmail.ID != changed.ID {
		t.Fatalf("lookup by the restored email: %+v, %v", byEmail, err)
	}

	res, err = r.RestoreRecord(e.ctx, "customers", deleted.ID, asOf)
	if err != nil {
		t.Fatal(err)
	}
	got, err = e.st.GetCustomer(e.ctx, deleted.ID)
	if err != nil || !res.Created || got.Name != deleted.Name || got.Address != deleted.Address {
		t.Fatalf("deleted customer after restore: %+v, %v; result %+v", got, err, res)
	}

	if _, err := r.RestoreRecord(e.ctx, "customers", erased.ID, asOf); !errors.Is(err, store.ErrErased) {
		t.Fatalf("restore an erased customer: %v, want ErrErased", err)
	}
	if _, err := e.st.GetCustomer(e.ctx, erased.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the erased customer came back: %v", err)
	}
	if _, err := r.RestoreRecord(e.ctx, "customers", "cus_00000000000000000000000000", asOf); !errors.Is(err, backup.ErrNotInBackup) {
		t.Fatalf("restore a customer the backups never held: %v", err)
	}
	if _, err := r.RestoreRecord(e.ctx, "customers", changed.ID, time.Now().Add(time.Hour)); err == nil {
		t.Fatal("restore to a point in the future succeeded")
	}

	// The restored records are ordinary writes: the next restore of the
	// whole store holds them.
	e.ship()
	wantPos, want := e.digest()
	db, _, err := e.restore(eng, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	pos, gotD, err := store.Digest(e.ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	// The row deleted behind the store's back never made a change record,
	// so the backups still hold it: only the customers table may differ
	// by that, and the rest must be equal.
	if pos != wantPos || gotD["orders"] != want["orders"] || gotD["products"] != want["products"] {
		t.Fatalf("restore after the record restores: %+v at %d, want %+v at %d", gotD, pos, want, wantPos)
	}
	if gotD["customers"] != want["customers"] {
		t.Fatalf("customers after restore differ: %+v, want %+v", gotD["customers"], want["customers"])
	}
}

func TestParseRecord(t *testing.T) {
	for _, c := range []struct {
		in      string
		ok      bool
		tab, id string
	}{
		{"customers/cus_1", true, "customers", "cus_1"},
		{"orders/ord_1", false, "", ""},
		{"customers/", false, "", ""},
		{"customers", false, "", ""},
		{"customers/a/b", false, "", ""},
	} {
		tab, id, err := backup.ParseRecord(c.in)
		if (err == nil) != c.ok || tab != c.tab || id != c.id {
			t.Errorf("ParseRecord(%q) = %q, %q, %v", c.in, tab, id, err)
		}
	}
}
