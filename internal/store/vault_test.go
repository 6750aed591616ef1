package store_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
)

func testCard(pan string) store.NewCard {
	return store.NewCard{PAN: pan, ExpMonth: 12, ExpYear: 2031, Holder: "Ada Lovelace", Brand: "visa",
		Fingerprint: []byte("fp:" + pan), CreatedBy: "prn_app"}
}

func TestVaultRoundTrip(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			e := newEnv(t, eng, keys.Config{})
			tok, err := e.s.PutCard(e.ctx, testCard("4111111111111111"))
			if err != nil {
				t.Fatal(err)
			}
			if !store.ValidToken(tok.Token) || tok.First6 != "411111" || tok.Last4 != "1111" ||
				tok.ExpMonth != 12 || tok.ExpYear != 2031 {
				t.Fatalf("token %+v", tok)
			}
			again, err := e.s.PutCard(e.ctx, testCard("4111111111111111"))
			if err != nil {
				t.Fatal(err)
			}
			if again.Token == tok.Token {
				t.Fatal("the same card got the same token twice")
			}
			if n, err := e.s.CardsByFingerprint(e.ctx, tok.Fingerprint); err != nil || n != 2 {
				t.Fatalf("cards by fingerprint: %d, %v", n, err)
			}

			meta, err := e.reopen().s.GetCardToken(e.ctx, tok.Token)
			if err != nil || meta.Last4 != "1111" || meta.ExpYear != 2031 {
				t.Fatalf("token after restart: %+v, %v", meta, err)
			}
			card, err := e.s.OpenCard(e.ctx, tok.Token)
			if err != nil || card.PAN != "4111111111111111" || card.Holder != "Ada Lovelace" {
				t.Fatalf("open: %+v, %v", card, err)
			}

			var raw []byte
			e.h.DB.QueryRow(e.ctx, "SELECT pan FROM vault_cards WHERE id = ?", tok.Token).Scan(&raw)
			if bytes.Contains(raw, []byte("4111111111111111")) || len(raw) == 0 {
				t.Fatal("the card number is stored in clear")
			}
		})
	}
}

func TestVaultTokenLife(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			e := newEnv(t, eng, keys.Config{})
			now := time.Now()
			e.s.SetClock(func() time.Time { return now })

			once := testCard("5555555555554444")
			once.SingleUse = true
			tok, err := e.s.PutCard(e.ctx, once)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.s.OpenCard(e.ctx, tok.Token); err != nil {
				t.Fatal(err)
			}
			if _, err := e.s.OpenCard(e.ctx, tok.Token); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("a single-use token opened twice: %v", err)
			}

			ttl := testCard("378282246310005")
			ttl.ExpiresAt = now.Add(time.Minute)
			tok, err = e.s.PutCard(e.ctx, ttl)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.s.OpenCard(e.ctx, tok.Token); err != nil {
				t.Fatal(err)
			}
			now = now.Add(time.Minute)
			if _, err := e.s.GetCardToken(e.ctx, tok.Token); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("an expired token answered: %v", err)
			}

			for _, bad := range []string{"", "tok_", "tok_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "cus_x"} {
				if _, err := e.s.OpenCard(e.ctx, bad); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("OpenCard(%q) = %v, want ErrNotFound", bad, err)
				}
			}
		})
	}
}

// TestVaultDeleteShreds checks that a deleted token's card does not open
// from a copy of its row taken before, as from a backup.
func TestVaultDeleteShreds(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			e := newEnv(t, eng, keys.Config{})
			a, err := e.s.PutCard(e.ctx, testCard("4111111111111111"))
			if err != nil {
				t.Fatal(err)
			}
			b, err := e.s.PutCard(e.ctx, testCard("6011111111111117"))
			if err != nil {
				t.Fatal(err)
			}
			var pan []byte
			e.h.DB.QueryRow(e.ctx, "SELECT pan FROM vault_cards WHERE id = ?", a.Token).Scan(&pan)

			// A ciphertext moved to another token does not open there.
			if _, err := e.ks.Open(e.ctx, pan, bindCard(b.Token)); err == nil {
				t.Fatal("a card number opened under another token")
			}

			if err := e.s.DeleteCard(e.ctx, a.Token); err != nil {
				t.Fatal(err)
			}
			if _, err := e.s.OpenCard(e.ctx, a.Token); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("a deleted token opened: %v", err)
			}
			if _, err := e.ks.Open(e.ctx, pan, bindCard(a.Token)); !errors.Is(err, keys.ErrKeyDestroyed) {
				t.Fatalf("the saved ciphertext of a deleted token: %v, want ErrKeyDestroyed", err)
			}
			if err := e.s.DeleteCard(e.ctx, a.Token); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("deleting twice: %v", err)
			}
			if _, err := e.s.OpenCard(e.ctx, b.Token); err != nil {
				t.Fatalf("another token after a delete: %v", err)
			}
		})
	}
}

func bindCard(token string) envelope.Binding {
	return envelope.Binding{Table: "vault_cards", Column: "pan", Row: token}
}

// TestVaultSweep checks that a sweep deletes the tokens past their time to
// live and the used-up single-use ones, shreds their keys, and leaves the
// rest.
func TestVaultSweep(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			e := newEnv(t, eng, keys.Config{})
			now := time.Now()
			e.s.SetClock(func() time.Time { return now })

			put := func(pan string, edit func(*store.NewCard)) string {
				n := testCard(pan)
				edit(&n)
				tok, err := e.s.PutCard(e.ctx, n)
				if err != nil {
					t.Fatal(err)
				}
				return tok.Token
			}
			keep := put("4111111111111111", func(*store.NewCard) {})
			later := put("5555555555554444", func(n *store.NewCard) { n.ExpiresAt = now.Add(time.Hour) })
			var expired []string
			for range 3 {
				expired = append(expired, put("378282246310005", func(n *store.NewCard) { n.ExpiresAt = now.Add(time.Minute) }))
			}
			unused := put("6011111111111117", func(n *store.NewCard) { n.SingleUse = true })
			used := put("6011111111111117", func(n *store.NewCard) { n.SingleUse = true })
			if _, err := e.s.OpenCard(e.ctx, used); err != nil {
				t.Fatal(err)
			}
			var pan []byte
			e.h.DB.QueryRow(e.ctx, "SELECT pan FROM vault_cards WHERE id = ?", expired[0]).Scan(&pan)

			now = now.Add(2 * time.Minute)
			if n, err := e.s.SweepCards(e.ctx, 2); err != nil || n != 2 {
				t.Fatalf("first sweep: %d, %v; want 2 (its limit)", n, err)
			}
			if n, err := e.s.SweepCards(e.ctx, 100); err != nil || n != 2 {
				t.Fatalf("second sweep: %d, %v; want the 2 left", n, err)
			}
			if n, err := e.s.SweepCards(e.ctx, 100); err != nil || n != 0 {
				t.Fatalf("third sweep: %d, %v; want nothing left", n, err)
			}
			for _, tok := range append(expired, used) {
				var one int
				err := e.h.DB.QueryRow(e.ctx, "SELECT 1 FROM vault_cards WHERE id = ?", tok).Scan(&one)
				if err == nil {
					t.Errorf("%s is still kept after the sweep", tok)
				}
			}
			if _, err := e.ks.Open(e.ctx, pan, bindCard(expired[0])); !errors.Is(err, keys.ErrKeyDestroyed) {
				t.Fatalf("an expired token's saved ciphertext after the sweep: %v, want ErrKeyDestroyed", err)
			}
			for _, tok := range []string{keep, later, unused} {
				if _, err := e.s.OpenCard(e.ctx, tok); err != nil {
					t.Errorf("a live token after the sweep: %v", err)
				}
			}
		})
	}
}

// TestOrderRefersToLiveToken checks that an order may name only a token
// that can still be used.
func TestOrderRefersToLiveToken(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			e := newEnv(t, eng, keys.Config{})
			now := time.Now()
			e.s.SetClock(func() time.Time { return now })
			c, err := e.s.CreateCustomer(e.ctx, store.NewCustomer{Name: "Ada Lovelace", Email: "ada@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.s.CreateProduct(e.ctx, store.NewProduct{SKU: "T-1", Name: "Tea", Currency: "EUR",
				Price: 450, Stock: 100}); err != nil {
				t.Fatal(err)
			}
			order := func(token string) error {
				_, err := e.s.CreateOrder(e.ctx, store.NewOrder{CustomerID: c.ID, Currency: "EUR", PaymentToken: token,
					Lines: []store.NewOrderLine{{SKU: "T-1", Quantity: 1}}})
				return err
			}
			put := func(edit func(*store.NewCard)) string {
				n := testCard("4111111111111111")
				edit(&n)
				tok, err := e.s.PutCard(e.ctx, n)
				if err != nil {
					t.Fatal(err)
				}
				return tok.Token
			}

			live := put(func(*store.NewCard) {})
			once := put(func(n *store.NewCard) { n.SingleUse = true })
			ttl := put(func(n *store.NewCard) { n.ExpiresAt = now.Add(time.Minute) })
			for _, tok := range []string{live, once, ttl} {
				if err := order(tok); err != nil {
					t.Fatalf("an order with a live token: %v", err)
				}
			}

			if _, err := e.s.OpenCard(e.ctx, once); err != nil {
				t.Fatal(err)
			}
			deleted := put(func(*store.NewCard) {})
			if err := e.s.DeleteCard(e.ctx, deleted); err != nil {
				t.Fatal(err)
			}
			now = now.Add(time.Minute)
			var msgs []string
			for name, tok := range map[string]string{"used up": once, "expired": ttl, "deleted": deleted,
				"unknown": "tok_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"} {
				err := order(tok)
				var inv *store.InvalidError
				if !errors.As(err, &inv) || inv.Field != "payment_token" {
					t.Fatalf("an order with a %s token: %v, want an invalid payment_token", name, err)
				}
				msgs = append(msgs, err.Error())
			}
			for _, m := range msgs[1:] {
				if m != msgs[0] {
					t.Fatalf("the refusals differ, telling which: %q and %q", msgs[0], m)
				}
			}
			if err := order(live); err != nil {
				t.Fatalf("an order with a live token after the others: %v", err)
			}
		})
	}
}
