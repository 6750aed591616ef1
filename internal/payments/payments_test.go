package payments_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/payments"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
)

func newVault(t *testing.T, eng sqldbtest.Engine) (*payments.Vault, *store.Store) {
	t.Helper()
	ctx := context.Background()
	h := eng.Open(t)
	ks, err := keys.Open(ctx, h.DB, &keys.FileProvider{Path: filepath.Join(t.TempDir(), "root.key")}, keys.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ks.Close)
	s, err := store.Open(ctx, h.DB, ks)
	if err != nil {
		t.Fatal(err)
	}
	v := payments.New(s)
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	v.SetClock(func() time.Time { return now })
	return v, s
}

func TestTokenize(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := context.Background()
			v, _ := newVault(t, eng)
			visa := payments.Card{PAN: "4111111111111111", ExpMonth: 12, ExpYear: 2026, Holder: "Ada Lovelace"}
			a, err := v.Tokenize(ctx, "prn_app", visa, payments.Options{})
			if err != nil {
				t.Fatal(err)
			}
			b, err := v.Tokenize(ctx, "prn_app", visa, payments.Options{})
			if err != nil {
				t.Fatal(err)
			}
			mc, err := v.Tokenize(ctx, "prn_app", payments.Card{PAN: "5555555555554444", ExpMonth: 1, ExpYear: 2030},
				payments.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if a.Token == b.Token || !strings.HasPrefix(a.Token, "tok_") || strings.Contains(a.Token, "1111") {
				t.Fatalf("tokens %q and %q", a.Token, b.Token)
			}
			fa, fb, fm := payments.Fingerprint(a.Fingerprint), payments.Fingerprint(b.Fingerprint),
				payments.Fingerprint(mc.Fingerprint)
			if fa != fb || fa == fm || !strings.HasPrefix(fa, "fp_") {
				t.Fatalf("fingerprints %s %s %s: want the same card's equal, another card's different", fa, fb, fm)
			}
			if a.Brand != "visa" || a.Last4 != "1111" || mc.Brand != "mastercard" {
				t.Fatalf("brand and last four: %+v %+v", a, mc)
			}

			card, err := v.Detokenize(ctx, a.Token, "capture")
			if err != nil || card.PAN != visa.PAN || card.Holder != visa.Holder {
				t.Fatalf("detokenize: %+v, %v", card, err)
			}
			if _, err := v.Detokenize(ctx, a.Token, "curiosity"); !isCode(err, payments.CodeInvalidPurpose) {
				t.Fatalf("a made-up purpose: %v", err)
			}
			if _, err := v.Detokenize(ctx, a.Token, ""); !isCode(err, payments.CodeInvalidPurpose) {
				t.Fatalf("no purpose: %v", err)
			}
			if err := v.Delete(ctx, a.Token); err != nil {
				t.Fatal(err)
			}
			if _, err := v.Detokenize(ctx, a.Token, "refund"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("a deleted token: %v", err)
			}
		})
	}
}

func TestTokenizeRefuses(t *testing.T) {
	v, _ := newVault(t, sqldbtest.Engines()[0])
	ctx := context.Background()
	good := payments.Card{PAN: "4111111111111111", ExpMonth: 12, ExpYear: 2027}
	for _, tt := range []struct {
		name string
		edit func(*payments.Card, *payments.Options)
		code string
	}{
		{"luhn", func(c *payments.Card, _ *payments.Options) { c.PAN = "4111111111111112" }, payments.CodeInvalidNumber},
		{"short", func(c *payments.Card, _ *payments.Options) { c.PAN = "41111111111" }, payments.CodeInvalidNumber},
		{"long", func(c *payments.Card, _ *payments.Options) { c.PAN = "41111111111111111111" }, payments.CodeInvalidNumber},
		{"letters", func(c *payments.Card, _ *payments.Options) { c.PAN = "4111x11111111111" }, payments.CodeInvalidNumber},
		{"spaces", func(c *payments.Card, _ *payments.Options) { c.PAN = "4111 1111 1111 1111" }, payments.CodeInvalidNumber},
		{"brand", func(c *payments.Card, _ *payments.Options) { c.PAN = "9999999999999995" }, payments.CodeUnknownBrand},
		{"brand length", func(c *payments.Card, _ *payments.Options) { c.PAN = "411111111111111" }, payments.CodeUnknownBrand},
		{"month", func(c *payments.Card, _ *payments.Options) { c.ExpMonth = 13 }, payments.CodeInvalidExpiry},
		{"two-digit year", func(c *payments.Card, _ *payments.Options) { c.ExpYear = 27 }, payments.CodeInvalidExpiry},
		{"expired", func(c *payments.Card, _ *payments.Options) { c.ExpMonth, c.ExpYear = 11, 2026 }, payments.CodeCardExpired},
		{"card in the name", func(c *payments.Card, _ *payments.Options) { c.Holder = "A 5555555555554444" }, payments.CodeInvalidOption},
		{"ttl", func(_ *payments.Card, o *payments.Options) { o.TTL = 2 * payments.MaxTTL }, payments.CodeInvalidOption},
	} {
		c, o := good, payments.Options{}
		tt.edit(&c, &o)
		_, err := v.Tokenize(ctx, "prn_app", c, o)
		if !isCode(err, tt.code) {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
		if err != nil && strings.Contains(err.Error(), c.PAN[:8]) {
			t.Errorf("%s: the error repeats the card number: %v", tt.name, err)
		}
	}
	// The current month is still good.
	if _, err := v.Tokenize(ctx, "prn_app", payments.Card{PAN: good.PAN, ExpMonth: 12, ExpYear: 2026}, payments.Options{}); err != nil {
		t.Fatalf("a card expiring this month: %v", err)
	}
}

func isCode(err error, code string) bool {
	inv, ok := payments.IsInvalid(err)
	return ok && inv.Code == code
}
