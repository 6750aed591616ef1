package store_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
)

func TestCustomerCRUD(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng sqldbtest.Engine) {
		e := newEnv(t, eng, keys.Config{})
		c := e.customer()

		got, err := e.s.GetCustomer(e.ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != c.Name || got.Email != c.Email || got.Phone != c.Phone || got.Address != c.Address {
			t.Fatalf("got %+v, want %+v", got, c)
		}
		if !strings.HasPrefix(c.Email, "ada.") {
			t.Fatalf("email not normalized: %q", c.Email)
		}

		// Stored sealed: no plaintext in the row.
		for _, col := range []string{"name", "email", "phone", "address"} {
			raw := e.sealedColumn("customers", col, c.ID)
			if _, err := envelope.Parse(raw); err != nil {
				t.Errorf("customers.%s is not an envelope", col)
			}
			if bytes.Contains(raw, []byte("Lovelace")) || bytes.Contains(raw, []byte("example.com")) {
				t.Errorf("customers.%s holds plaintext", col)
			}
		}

		byEmail, err := e.s.FindCustomerByEmail(e.ctx, "  "+strings.ToUpper(c.Email)+" ")
		if err != nil || byEmail.ID != c.ID {
			t.Fatalf("FindCustomerByEmail = %v, %v", byEmail, err)
		}

		name, email := "Ada King", "countess@example.org"
		up, err := e.s.UpdateCustomer(e.ctx, c.ID, c.Version, store.CustomerPatch{Name: &name, Email: &email})
		if err != nil {
			t.Fatal(err)
		}
		if up.Name != name || up.Email != email || up.Version != c.Version+1 || up.Phone != c.Phone {
			t.Fatalf("after update: %+v", up)
		}
		if _, err := e.s.FindCustomerByEmail(e.ctx, c.Email); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("old email still found: %v", err)
		}
		if f, err := e.s.FindCustomerByEmail(e.ctx, email); err != nil || f.ID != c.ID {
			t.Fatalf("new email not found: %v", err)
		}

		// A stale version is refused.
		if _, err := e.s.UpdateCustomer(e.ctx, c.ID, c.Version, store.CustomerPatch{Name: &name}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale update: %v", err)
		}
		// Duplicate email refused.
		other := e.customer()
		if _, err := e.s.UpdateCustomer(e.ctx, other.ID, other.Version, store.CustomerPatch{Email: &email}); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("duplicate email on update: %v", err)
		}
		if _, err := e.s.CreateCustomer(e.ctx, store.NewCustomer{Name: "X", Email: email}); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("duplicate email on create: %v", err)
		}
		// Unknown and malformed ids.
		for _, id := range []string{"cus_aaaaaaaaaaaaaaaaaaaaaaaaaa", "nope", "", "cus_' OR 1=1 --"} {
			if _, err := e.s.GetCustomer(e.ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetCustomer(%q) = %v", id, err)
			}
		}
	})
}

func TestCustomerValidation(t *testing.T) {
	e := newEnv(t, sqldbtest.Engines()[0], keys.Config{})
	long := strings.Repeat("x", 2000)
	cases := map[string]store.NewCustomer{
		"no email":      {Name: "A"},
		"bad email":     {Name: "A", Email: "not-an-email"},
		"no name":       {Email: "a@example.com"},
		"long name":     {Name: long, Email: "a@example.com"},
		"long city":     {Name: "A", Email: "a@example.com", Address: store.Address{City: long}},
		"invalid utf-8": {Name: "A\xff", Email: "a@example.com"},
	}
	for name, n := range cases {
		var ie *store.InvalidError
		if _, err := e.s.CreateCustomer(e.ctx, n); !errors.As(err, &ie) {
			t.Errorf("%s: err = %v, want InvalidError", name, err)
		}
	}
}

func TestListCustomersPaginates(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng sqldbtest.Engine) {
		e := newEnv(t, eng, keys.Config{})
		want := map[string]bool{}
		for range 25 {
			want[e.customer().ID] = true
		}
		seen := map[string]bool{}
		cursor, pages := "", 0
		for {
			p, err := e.s.ListCustomers(e.ctx, cursor, 10)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, c := range p.Items {
				if seen[c.ID] {
					t.Fatalf("%s listed twice", c.ID)
				}
				seen[c.ID] = true
			}
			if p.Next == "" {
				break
			}
			cursor = p.Next
		}
		if len(seen) != 25 || pages != 3 {
			t.Fatalf("listed %d customers in %d pages", len(seen), pages)
		}
		for id := range want {
			if !seen[id] {
				t.Fatalf("%s missing", id)
			}
		}
	})
}

func TestProductsAndOrders(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng sqldbtest.Engine) {
		e := newEnv(t, eng, keys.Config{})
		c := e.customer()
		mug := e.product("MUG-1", 1250, 3)
		tee := e.product("TEE-1", 2000, 10)

		if p, err := e.s.GetProductBySKU(e.ctx, "MUG-1"); err != nil || p.ID != mug.ID {
			t.Fatalf("GetProductBySKU = %v, %v", p, err)
		}
		if _, err := e.s.CreateProduct(e.ctx, store.NewProduct{SKU: "MUG-1", Name: "dup", Currency: "EUR"}); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("duplicate sku: %v", err)
		}

		card, err := e.s.PutCard(e.ctx, testCard("4111111111111111"))
		if err != nil {
			t.Fatal(err)
		}
		o, err := e.s.CreateOrder(e.ctx, store.NewOrder{CustomerID: c.ID, Currency: "EUR",
			Lines:        []store.NewOrderLine{{SKU: "TEE-1", Quantity: 2}, {SKU: "MUG-1", Quantity: 3}},
			PaymentToken: card.Token, Notes: "Leave with the porter, card 4111 1111 1111 1111"})
		if err != nil {
			t.Fatal(err)
		}
		if o.Total != 2*2000+3*1250 || o.Status != store.StatusPending {
			t.Fatalf("order = %+v", o)
		}
		if raw := e.sealedColumn("orders", "notes", o.ID); bytes.Contains(raw, []byte("porter")) {
			t.Fatal("order notes stored in clear")
		}
		got, err := e.s.GetOrder(e.ctx, o.ID)
		if err != nil || got.Notes != o.Notes || len(got.Lines) != 2 {
			t.Fatalf("GetOrder = %+v, %v", got, err)
		}
		if p, _ := e.s.GetProduct(e.ctx, mug.ID); p.Stock != 0 {
			t.Fatalf("mug stock = %d, want 0", p.Stock)
		}
		if _, err := e.s.CreateOrder(e.ctx, store.NewOrder{CustomerID: c.ID, Currency: "EUR",
			Lines: []store.NewOrderLine{{SKU: "TEE-1", Quantity: 1}, {SKU: "MUG-1", Quantity: 1}}}); !errors.Is(err, store.ErrInsufficientStock) {
			t.Fatalf("order without stock: %v", err)
		}
		// The failed order took nothing.
		if p, _ := e.s.GetProduct(e.ctx, tee.ID); p.Stock != 8 {
			t.Fatalf("tee stock = %d, want 8", p.Stock)
		}
		if _, err := e.s.CreateOrder(e.ctx, store.NewOrder{CustomerID: c.ID, Currency: "USD",
			Lines: []store.NewOrderLine{{SKU: "TEE-1", Quantity: 1}}}); err == nil {
			t.Fatal("order in another currency accepted")
		}
		if _, err := e.s.CreateOrder(e.ctx, store.NewOrder{CustomerID: "cus_aaaaaaaaaaaaaaaaaaaaaaaaaa", Currency: "EUR",
			Lines: []store.NewOrderLine{{SKU: "TEE-1", Quantity: 1}}}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("order for unknown customer: %v", err)
		}

		// Status transitions; cancelling returns stock.
		if _, err := e.s.UpdateOrderStatus(e.ctx, o.ID, o.Version, store.StatusShipped); !errors.Is(err, store.ErrInvalidTransition) {
			t.Fatalf("pending -> shipped: %v", err)
		}
		paid, err := e.s.UpdateOrderStatus(e.ctx, o.ID, o.Version, store.StatusPaid)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.UpdateOrderStatus(e.ctx, o.ID, o.Version, store.StatusCancelled); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale status update: %v", err)
		}
		if _, err := e.s.UpdateOrderStatus(e.ctx, o.ID, paid.Version, store.StatusCancelled); err != nil {
			t.Fatal(err)
		}
		if p, _ := e.s.GetProduct(e.ctx, mug.ID); p.Stock != 3 {
			t.Fatalf("mug stock after cancel = %d, want 3", p.Stock)
		}

		list, err := e.s.ListOrdersByCustomer(e.ctx, c.ID, "", 10)
		if err != nil || len(list.Items) != 1 {
			t.Fatalf("ListOrdersByCustomer = %v, %v", list, err)
		}
		all, err := e.s.ListOrders(e.ctx, "", 10)
		if err != nil || len(all.Items) != 1 || all.Items[0].ID != o.ID || all.Items[0].Notes != o.Notes {
			t.Fatalf("ListOrders = %v, %v", all, err)
		}

		price := int64(999)
		if _, err := e.s.UpdateProduct(e.ctx, tee.ID, tee.Version, store.ProductPatch{Price: &price}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale product update: %v", err)
		}
		cur, _ := e.s.GetProduct(e.ctx, tee.ID)
		if up, err := e.s.UpdateProduct(e.ctx, tee.ID, cur.Version, store.ProductPatch{Price: &price}); err != nil || up.Price != 999 {
			t.Fatalf("UpdateProduct = %+v, %v", up, err)
		}
		if err := e.s.DeleteProduct(e.ctx, tee.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.GetProduct(e.ctx, tee.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted product: %v", err)
		}
		pl, err := e.s.ListProducts(e.ctx, "", 10)
		if err != nil || len(pl.Items) != 1 {
			t.Fatalf("ListProducts = %v, %v", pl, err)
		}
	})
}

func TestChangeLogRecordsEveryMutation(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng sqldbtest.Engine) {
		e := newEnv(t, eng, keys.Config{})
		c := e.customer()
		e.product("SKU-1", 100, 5)
		name := "Grace Hopper"
		if _, err := e.s.UpdateCustomer(e.ctx, c.ID, c.Version, store.CustomerPatch{Name: &name}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.CreateOrder(e.ctx, store.NewOrder{CustomerID: c.ID, Currency: "EUR",
			Lines: []store.NewOrderLine{{SKU: "SKU-1", Quantity: 1}}, Notes: "ring twice"}); err != nil {
			t.Fatal(err)
		}
		if err := e.s.ShredCustomer(e.ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		changes, err := e.s.ReadChanges(e.ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var ops []string
		for i, ch := range changes {
			if ch.Pos != int64(i+1) {
				t.Fatalf("change %d has position %d", i, ch.Pos)
			}
			ops = append(ops, ch.Table+":"+ch.Op)
			if bytes.Contains(ch.After, []byte("Grace")) || bytes.Contains(ch.After, []byte("ring twice")) ||
				bytes.Contains(ch.After, []byte("example.com")) {
				t.Fatalf("change %d holds plaintext PII: %s", ch.Pos, ch.After)
			}
		}
		want := "customers:insert products:insert customers:update products:update orders:insert customers:delete"
		if got := strings.Join(ops, " "); got != want {
			t.Fatalf("changes = %s\nwant      %s", got, want)
		}
		// The after-image carries sealed fields as envelopes.
		var img map[string]any
		if err := json.Unmarshal(changes[0].After, &img); err != nil {
			t.Fatal(err)
		}
		if _, ok := img["email"].(string); !ok {
			t.Fatalf("after-image lacks the sealed email: %v", img)
		}

		head, _, err := e.s.ChangeHead(e.ctx)
		if err != nil || head != int64(len(changes)) {
			t.Fatalf("head = %d, %v", head, err)
		}
		n, err := e.s.PruneChanges(e.ctx, 3)
		if err != nil || n != 3 {
			t.Fatalf("PruneChanges = %d, %v", n, err)
		}
		rest, _ := e.s.ReadChanges(e.ctx, 0, 0)
		if len(rest) != len(changes)-3 || rest[0].Pos != 4 {
			t.Fatalf("after prune: %d changes from %d", len(rest), rest[0].Pos)
		}
	})
}

func TestKeystoreTablesNeverInChangeLog(t *testing.T) {
	e := newEnv(t, sqldbtest.Engines()[0], keys.Config{})
	for range 5 {
		e.customer()
	}
	if _, err := e.ks.Rotate(e.ctx, envelope.CustomerPII); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ks.Rewrap(e.ctx, envelope.CustomerPII, nil); err != nil {
		t.Fatal(err)
	}
	changes, _ := e.s.ReadChanges(e.ctx, 0, 0)
	for _, c := range changes {
		if strings.HasPrefix(c.Table, "ks_") {
			t.Fatalf("keystore change in the log: %+v", c)
		}
	}
	if len(changes) != 5 {
		t.Fatalf("%d changes, want 5", len(changes))
	}
}

func TestRandomFlipsNeverOpen(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng sqldbtest.Engine) {
		e := newEnv(t, eng, keys.Config{})
		var sealed [][]byte
		var ids []string
		for range 10 {
			c := e.customer()
			for _, col := range []string{"name", "email", "phone", "address"} {
				sealed = append(sealed, e.sealedColumn("customers", col, c.ID))
				ids = append(ids, c.ID+"/"+col)
			}
		}
		opened := 0
		buf := make([]byte, 4)
		for i := 0; i < 1000; i++ {
			rand.Read(buf)
			k := int(buf[0]) % len(sealed)
			b := bytes.Clone(sealed[k])
			pos := (int(buf[1])<<8 | int(buf[2])) % len(b)
			b[pos] ^= 1 << (buf[3] % 8)
			id, col, _ := strings.Cut(ids[k], "/")
			if pt, err := e.ks.Open(e.ctx, b, envelope.Binding{Table: "customers", Column: col, Row: id}); err == nil || pt != nil {
				opened++
			}
		}
		if opened != 0 {
			t.Fatalf("%d of 1000 flipped ciphertexts opened", opened)
		}

		// Through the store's read path too: a flipped byte in the row makes
		// the read fail instead of returning anything.
		c := e.customer()
		raw := e.sealedColumn("customers", "email", c.ID)
		raw[len(raw)-1] ^= 0x80
		e.setColumn("customers", "email", c.ID, raw)
		if got, err := e.s.GetCustomer(e.ctx, c.ID); err == nil || got != nil {
			t.Fatalf("tampered row read: %+v", got)
		} else if !errors.Is(err, envelope.ErrAuth) {
			t.Fatalf("tampered row: err = %v, want ErrAuth", err)
		}
	})
}

func TestMovedCiphertextsNeverOpen(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng sqldbtest.Engine) {
		e := newEnv(t, eng, keys.Config{})
		a, b := e.customer(), e.customer()
		cols := []string{"name", "email", "phone", "address"}
		tried, opened := 0, 0
		for _, from := range []*store.Customer{a, b} {
			for _, to := range []*store.Customer{a, b} {
				for _, fc := range cols {
					for _, tc := range cols {
						if from == to && fc == tc {
							continue
						}
						tried++
						ct := e.sealedColumn("customers", fc, from.ID)
						if _, err := e.ks.Open(e.ctx, ct, envelope.Binding{Table: "customers", Column: tc, Row: to.ID}); err == nil {
							opened++
						}
					}
				}
			}
		}
		// Across tables: a customer's email as an order's notes.
		tried++
		if _, err := e.ks.Open(e.ctx, e.sealedColumn("customers", "email", a.ID),
			envelope.Binding{Table: "orders", Column: "notes", Row: a.ID}); err == nil {
			opened++
		}
		if opened != 0 {
			t.Fatalf("%d of %d moved ciphertexts opened", opened, tried)
		}

		// And through the store: b's row holding a's email does not read.
		e.setColumn("customers", "email", b.ID, e.sealedColumn("customers", "email", a.ID))
		if got, err := e.s.GetCustomer(e.ctx, b.ID); err == nil {
			t.Fatalf("swapped ciphertext read as %q", got.Email)
		}
	})
}

func TestShredMakesEveryCopyUnreadable(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng sqldbtest.Engine) {
		e := newEnv(t, eng, keys.Config{})
		victim, other := e.customer(), e.customer()
		e.product("SKU-1", 100, 10)
		o, err := e.s.CreateOrder(e.ctx, store.NewOrder{CustomerID: victim.ID, Currency: "EUR",
			Lines: []store.NewOrderLine{{SKU: "SKU-1", Quantity: 1}}, Notes: "gate code 1234"})
		if err != nil {
			t.Fatal(err)
		}
		// A copy of the rows made before the erasure, as a backup would hold.
		type copied struct {
			table, col, id string
			b              []byte
		}
		var copies []copied
		for _, col := range []string{"name", "email", "phone", "address"} {
			copies = append(copies, copied{"customers", col, victim.ID, e.sealedColumn("customers", col, victim.ID)})
		}
		copies = append(copies, copied{"orders", "notes", o.ID, e.sealedColumn("orders", "notes", o.ID)})

		if err := e.s.ShredCustomer(e.ctx, victim.ID); err != nil {
			t.Fatal(err)
		}
		for _, ks := range []*keys.Keystore{e.ks, e.reopen().ks} {
			for _, c := range copies {
				pt, err := ks.Open(e.ctx, c.b, envelope.Binding{Table: c.table, Column: c.col, Row: c.id})
				if err == nil || pt != nil {
					t.Fatalf("%s.%s opened after shred", c.table, c.col)
				}
				if !errors.Is(err, keys.ErrKeyDestroyed) {
					t.Fatalf("%s.%s: err = %v, want ErrKeyDestroyed", c.table, c.col, err)
				}
			}
		}
		if _, err := e.s.GetCustomer(e.ctx, victim.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetCustomer after shred: %v", err)
		}
		if _, err := e.s.FindCustomerByEmail(e.ctx, victim.Email); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("FindCustomerByEmail after shred: %v", err)
		}
		got, err := e.s.GetOrder(e.ctx, o.ID)
		if err != nil || !got.NotesErased || got.Notes != "" || got.Total != 100 {
			t.Fatalf("order after shred = %+v, %v", got, err)
		}
		if err := e.s.ShredCustomer(e.ctx, victim.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second shred: %v", err)
		}
		// The other customer is untouched.
		if c, err := e.s.GetCustomer(e.ctx, other.ID); err != nil || c.Name != other.Name {
			t.Fatalf("other customer: %v", err)
		}
		// The same email can register again, with a new key.
		if _, err := e.s.CreateCustomer(e.ctx, store.NewCustomer{Name: "New", Email: victim.Email}); err != nil {
			t.Fatalf("re-register after erasure: %v", err)
		}
	})
}

func TestSweepErasedRemovesRowsWithDestroyedKeys(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng sqldbtest.Engine) {
		e := newEnv(t, eng, keys.Config{})
		victim, other := e.customer(), e.customer()
		// A crash between destroying the keys and deleting the row.
		if _, err := e.ks.Shred(e.ctx, victim.ID); err != nil {
			t.Fatal(err)
		}
		p, err := e.s.ListCustomers(e.ctx, "", 10)
		if err != nil || len(p.Items) != 1 || p.Items[0].ID != other.ID {
			t.Fatalf("list skips the unreadable row: %v, %v", p.Items, err)
		}
		n, err := e.s.SweepErased(e.ctx)
		if err != nil || n != 1 {
			t.Fatalf("SweepErased = %d, %v", n, err)
		}
		n, _ = e.s.SweepErased(e.ctx)
		if n != 0 {
			t.Fatalf("second sweep removed %d", n)
		}
	})
}

// TestErrorsNeverEchoValues checks that refusing a value does not repeat it:
// errors reach logs and API responses.
func TestErrorsNeverEchoValues(t *testing.T) {
	e := newEnv(t, sqldbtest.Engines()[0], keys.Config{})
	secret := "4111111111111111-ada-lovelace-secret"
	c := e.customer()
	cases := map[string]error{}
	_, cases["bad email"] = e.s.CreateCustomer(e.ctx, store.NewCustomer{Name: "A", Email: secret})
	_, cases["long name"] = e.s.CreateCustomer(e.ctx, store.NewCustomer{Name: strings.Repeat(secret, 100), Email: "a@example.com"})
	_, cases["duplicate"] = e.s.CreateCustomer(e.ctx, store.NewCustomer{Name: secret, Email: c.Email})
	_, cases["bad notes"] = e.s.CreateOrder(e.ctx, store.NewOrder{CustomerID: c.ID, Currency: "EUR",
		Lines: []store.NewOrderLine{{SKU: "NOPE", Quantity: 1}}, Notes: secret + "\xff"})
	_, cases["unknown product"] = e.s.CreateOrder(e.ctx, store.NewOrder{CustomerID: c.ID, Currency: "EUR",
		Lines: []store.NewOrderLine{{SKU: "NOPE", Quantity: 1}}, Notes: secret})
	_, cases["bad phone"] = e.s.UpdateCustomer(e.ctx, c.ID, c.Version, store.CustomerPatch{Phone: ptr(strings.Repeat(secret, 100))})
	for name, err := range cases {
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), "ada-lovelace") || strings.Contains(err.Error(), c.Email) {
			t.Errorf("%s: error repeats the value: %v", name, err)
		}
	}
}

func ptr[T any](v T) *T { return &v }
