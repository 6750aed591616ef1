package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/server"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
)

// tokenize keeps card for the storefront and returns the answer.
func (f *vaultFixture) tokenize(card map[string]any) map[string]any {
	f.t.Helper()
	code, _, raw := f.call("app", "POST", "/v1/payments/tokenize", card)
	if code != http.StatusCreated {
		f.t.Fatalf("tokenize: %d %s", code, raw)
	}
	var tok map[string]any
	if err := json.Unmarshal(raw, &tok); err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// records returns the trail's records of action, once the outcome
// records on their way are written.
func records(t *testing.T, f *vaultFixture, log *audit.Log, action string) []*audit.Record {
	t.Helper()
	f.api.Close()
	var out []*audit.Record
	for e, err := range log.Reader().Scan(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.Record.Encode()
		if err != nil {
			t.Fatal(err)
		}
		for _, pan := range []string{"4111111111111111", "5555555555554444", "411111111111"} {
			if bytes.Contains(b, []byte(pan)) {
				t.Fatalf("audit record %d holds a card number", e.Seq)
			}
		}
		if e.Record.Action == action {
			out = append(out, e.Record)
		}
	}
	return out
}

// outcomes returns the statuses of records' outcome records, in order.
func outcomes(recs []*audit.Record) []int {
	var out []int
	for _, r := range recs {
		if r.Phase == audit.PhaseOutcome {
			out = append(out, r.Outcome.Status)
		}
	}
	return out
}

func TestDeleteCardToken(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			log, _ := openTrail(t)
			t.Cleanup(func() { log.Close() })
			keys := staticKeys{}
			for k, v := range principals {
				keys[k] = v
			}
			keys["dba-mfa"] = server.Principal{ID: "prn_dba2", Kind: policy.KindPerson,
				Roles: []string{policy.RoleDBA}, MFA: true}
			f := newVaultFixtureWith(t, eng, vaultSetup{payNet: "127.0.0.0/8", audit: log, keys: keys})
			card := map[string]any{"pan": "4111111111111111", "exp_month": 12, "exp_year": 2040}
			tok := f.tokenize(card)["token"].(string)
			other := f.tokenize(card)["token"].(string)

			// Refused to every role but the storefront and a dba with MFA
			// ("" is the payment provider over mTLS).
			for _, key := range []string{"dev", "sec", "dba", "admin", "pay", ""} {
				if code, _, raw := f.call(key, "DELETE", "/v1/payments/tokens/"+tok, nil); code != http.StatusForbidden {
					t.Errorf("delete as %q: %d %s, want 403", key, code, raw)
				}
			}
			if code, _, raw := f.call("app", "DELETE", "/v1/payments/tokens/"+tok, nil); code != http.StatusNoContent {
				t.Fatalf("delete: %d %s", code, raw)
			}
			if code, _, raw := f.call("dba-mfa", "DELETE", "/v1/payments/tokens/"+other, nil); code != http.StatusNoContent {
				t.Fatalf("delete by a dba with MFA: %d %s", code, raw)
			}

			// A deleted token is gone to the provider and to orders, and
			// answers like one that never was.
			code, _, raw := f.call("", "POST", "/v1/payments/detokenize", map[string]any{"token": tok, "purpose": "refund"})
			_, _, never := f.call("", "POST", "/v1/payments/detokenize",
				map[string]any{"token": "tok_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "purpose": "refund"})
			a, _ := json.Marshal(problemOf(t, raw))
			b, _ := json.Marshal(problemOf(t, never))
			if code != http.StatusNotFound || !bytes.Equal(a, b) {
				t.Fatalf("detokenize a deleted token: %d %s; an unknown one: %s; want the same 404", code, raw, never)
			}
			_, _, again := f.call("app", "DELETE", "/v1/payments/tokens/"+tok, nil)
			_, _, unknown := f.call("app", "DELETE", "/v1/payments/tokens/tok_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", nil)
			_, _, pan := f.call("app", "DELETE", "/v1/payments/tokens/4111111111111111", nil)
			first, _ := json.Marshal(problemOf(t, again))
			for _, raw := range [][]byte{again, unknown, pan} {
				p := problemOf(t, raw)
				b, _ := json.Marshal(p)
				if p["status"] != 404.0 || p["code"] != "not_found" || !bytes.Equal(b, first) {
					t.Errorf("delete of a token that is not kept: %s, want the same 404 for each", raw)
				}
				if bytes.Contains(raw, []byte("4111111111111111")) {
					t.Errorf("the answer repeats the card number: %s", raw)
				}
			}

			// Every call is in the trail under the token, never a card
			// number: six refusals, two deletions, three not found.
			recs := records(t, f, log, policy.DeleteCardToken)
			got := outcomes(recs)
			want := []int{403, 403, 403, 403, 403, 403, 204, 204, 404, 404, 404}
			if len(got) != len(want) {
				t.Fatalf("delete outcomes %v, want %v", got, want)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("delete outcomes %v, want %v", got, want)
				}
			}
			for _, r := range recs {
				if r.Resource.Type != "CardToken" || (r.Resource.ID != tok && r.Resource.ID != other &&
					r.Resource.ID != "tok_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" && r.Resource.ID != "") {
					t.Errorf("delete recorded as %+v", r.Resource)
				}
			}
		})
	}
}

func problemOf(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("not a problem: %s", raw)
	}
	delete(p, "request_id")
	return p
}

// TestDetokenizeRefusalsAudited checks each refused detokenization: 403,
// the card number nowhere in the answer, and an outcome record in the
// trail naming the token.
func TestDetokenizeRefusalsAudited(t *testing.T) {
	for _, tt := range []struct {
		name, payNet, key string
		purpose           string
	}{
		{"the storefront", "127.0.0.0/8", "app", "capture"},
		{"a developer", "127.0.0.0/8", "dev", "capture"},
		{"a dba", "127.0.0.0/8", "dba", "capture"},
		{"the provider without mTLS", "127.0.0.0/8", "pay", "capture"},
		{"the provider from another network", "10.9.0.0/24", "", "capture"},
		{"the provider without a purpose", "127.0.0.0/8", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			log, _ := openTrail(t)
			t.Cleanup(func() { log.Close() })
			f := newVaultFixtureWith(t, sqldbtest.Engines()[0], vaultSetup{payNet: tt.payNet, audit: log})
			tok := f.tokenize(map[string]any{"pan": "5555555555554444", "exp_month": 3, "exp_year": 2041})["token"].(string)
			body := map[string]any{"token": tok}
			if tt.purpose != "" {
				body["purpose"] = tt.purpose
			}
			code, h, raw := f.call(tt.key, "POST", "/v1/payments/detokenize", body)
			if code != http.StatusForbidden || bytes.Contains(raw, []byte("5555555555554444")) {
				t.Fatalf("%d %s, want 403 without the card number", code, raw)
			}
			if h.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", h.Get("Cache-Control"))
			}
			recs := records(t, f, log, policy.Detokenize)
			if got := outcomes(recs); len(got) != 1 || got[0] != http.StatusForbidden {
				t.Fatalf("detokenize outcomes %v, want one 403", got)
			}
			for _, r := range recs {
				if r.Resource != (audit.Resource{Type: "CardToken", ID: tok}) || r.Purpose != tt.purpose {
					t.Errorf("%s record names %+v for %q", r.Phase, r.Resource, r.Purpose)
				}
			}
			// The refused call did not consume or touch the token.
			if _, err := f.s.GetCardToken(context.Background(), tok); err != nil {
				t.Fatalf("the token after a refusal: %v", err)
			}
		})
	}
}

// TestTokenLifeOverAPI tokenizes single-use and short-lived tokens and
// checks that detokenize and orders honour their life.
func TestTokenLifeOverAPI(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			f := newVaultFixture(t, eng, "127.0.0.0/8")
			now := time.Now().UTC().Truncate(time.Second)
			clock := func() time.Time { return now }
			f.s.SetClock(clock)
			f.vault.SetClock(clock)
			ctx := context.Background()
			c, err := f.s.CreateCustomer(ctx, store.NewCustomer{Name: "Ada Lovelace", Email: "ada@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.s.CreateProduct(ctx, store.NewProduct{SKU: "T-1", Name: "Tea", Currency: "EUR",
				Price: 450, Stock: 100}); err != nil {
				t.Fatal(err)
			}
			order := func(token string) (int, map[string]any) {
				code, _, raw := f.call("app", "POST", "/v1/orders", map[string]any{"customer_id": c.ID,
					"currency": "EUR", "payment_token": token, "lines": []any{map[string]any{"sku": "T-1", "quantity": 1}}})
				var out map[string]any
				json.Unmarshal(raw, &out)
				return code, out
			}
			detok := func(token string) int {
				code, _, _ := f.call("", "POST", "/v1/payments/detokenize", map[string]any{"token": token, "purpose": "capture"})
				return code
			}

			card := map[string]any{"pan": "4111111111111111", "exp_month": 12, "exp_year": 2040}
			once := f.tokenize(map[string]any{"pan": card["pan"], "exp_month": 12, "exp_year": 2040, "single_use": true})
			ttl := f.tokenize(map[string]any{"pan": card["pan"], "exp_month": 12, "exp_year": 2040, "ttl_seconds": 60})
			if once["single_use"] != true || once["expires_at"] != nil {
				t.Fatalf("single-use token %v", once)
			}
			if ttl["single_use"] != false || ttl["expires_at"] != now.Add(time.Minute).Format(time.RFC3339) {
				t.Fatalf("token with a time to live %v, want expires_at %s", ttl, now.Add(time.Minute).Format(time.RFC3339))
			}
			for _, tok := range []map[string]any{once, ttl} {
				if code, out := order(tok["token"].(string)); code != http.StatusCreated {
					t.Fatalf("an order with a live token: %d %v", code, out)
				}
			}

			if code := detok(once["token"].(string)); code != http.StatusOK {
				t.Fatalf("first detokenize of a single-use token: %d", code)
			}
			if code := detok(once["token"].(string)); code != http.StatusNotFound {
				t.Fatalf("second detokenize of a single-use token: %d, want 404", code)
			}
			if code := detok(ttl["token"].(string)); code != http.StatusOK {
				t.Fatalf("detokenize within the time to live: %d", code)
			}
			now = now.Add(time.Minute)
			if code := detok(ttl["token"].(string)); code != http.StatusNotFound {
				t.Fatalf("detokenize past the time to live: %d, want 404", code)
			}
			var refusals []map[string]any
			for _, tok := range []string{once["token"].(string), ttl["token"].(string), "tok_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"} {
				code, out := order(tok)
				if code != http.StatusBadRequest || out["field"] != "payment_token" {
					t.Fatalf("an order with a dead token: %d %v, want 400 on payment_token", code, out)
				}
				delete(out, "request_id")
				refusals = append(refusals, out)
			}
			a, _ := json.Marshal(refusals[0])
			for _, r := range refusals[1:] {
				if b, _ := json.Marshal(r); !bytes.Equal(a, b) {
					t.Fatalf("the refusals differ, telling which: %s and %s", a, b)
				}
			}
			if code, out := order("4111111111111111"); code != http.StatusBadRequest || out["field"] != "payment_token" {
				t.Fatalf("an order with a card number: %d %v", code, out)
			}

			// Time to live is checked at tokenize: none above a year.
			for _, bad := range []any{-1, 31622401, "60", 1.5} {
				code, _, raw := f.call("app", "POST", "/v1/payments/tokenize",
					map[string]any{"pan": card["pan"], "exp_month": 12, "exp_year": 2040, "ttl_seconds": bad})
				if code != http.StatusBadRequest {
					t.Errorf("ttl_seconds %v: %d %s, want 400", bad, code, raw)
				}
			}
			if code, _, raw := f.call("app", "POST", "/v1/payments/tokenize",
				map[string]any{"pan": card["pan"], "exp_month": 12, "exp_year": 2040, "ttl_seconds": 31622400}); code != http.StatusCreated {
				t.Errorf("ttl_seconds of a year: %d %s", code, raw)
			}
		})
	}
}

// TestDetokenizeRateLimited checks that the payment provider's own limit
// holds its detokenizations, with Retry-After, and no one else's.
func TestDetokenizeRateLimited(t *testing.T) {
	f := newVaultFixtureWith(t, sqldbtest.Engines()[0], vaultSetup{payNet: "127.0.0.0/8",
		limits: map[string]server.Limit{policy.RolePaymentProvider: {Rate: 0.01, Burst: 3}}})
	once := f.tokenize(map[string]any{"pan": "4111111111111111", "exp_month": 12, "exp_year": 2040, "single_use": true})
	tok := f.tokenize(map[string]any{"pan": "5555555555554444", "exp_month": 12, "exp_year": 2040})
	req := map[string]any{"token": tok["token"], "purpose": "capture"}
	for i := range 3 {
		if code, _, raw := f.call("", "POST", "/v1/payments/detokenize", req); code != http.StatusOK {
			t.Fatalf("detokenize %d within the burst: %d %s", i, code, raw)
		}
	}
	code, h, raw := f.call("", "POST", "/v1/payments/detokenize", map[string]any{"token": once["token"], "purpose": "capture"})
	p := problemOf(t, raw)
	retry, err := strconv.Atoi(h.Get("Retry-After"))
	if code != http.StatusTooManyRequests || p["code"] != "rate_limited" || err != nil || retry < 1 || retry > 100 {
		t.Fatalf("detokenize past the limit: %d %s, Retry-After %q", code, raw, h.Get("Retry-After"))
	}
	if bytes.Contains(raw, []byte("4111111111111111")) {
		t.Fatalf("the refusal holds the card number: %s", raw)
	}
	// The refused call did not run: the single-use token is still live.
	if _, err := f.s.GetCardToken(context.Background(), once["token"].(string)); err != nil {
		t.Fatalf("a single-use token after a rate-limited detokenize: %v", err)
	}
	// The storefront has its own bucket.
	f.tokenize(map[string]any{"pan": "4111111111111111", "exp_month": 12, "exp_year": 2040})
}

// TestFingerprintsOverAPI checks that different cards get different
// fingerprints and the same card, kept twice, one.
func TestFingerprintsOverAPI(t *testing.T) {
	f := newVaultFixture(t, sqldbtest.Engines()[0], "127.0.0.0/8")
	fps := map[string]string{}
	for _, pan := range []string{"4111111111111111", "4012888888881881", "5555555555554444", "378282246310005",
		"4111111111111111"} {
		tok := f.tokenize(map[string]any{"pan": pan, "exp_month": 12, "exp_year": 2040})
		fp := tok["fingerprint"].(string)
		if prev, ok := fps[pan]; ok && prev != fp {
			t.Fatalf("the same card, two fingerprints: %s and %s", prev, fp)
		}
		for other, ofp := range fps {
			if other != pan && ofp == fp {
				t.Fatalf("two cards, one fingerprint %s", fp)
			}
		}
		fps[pan] = fp
	}
}
