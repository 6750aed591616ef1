package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/logging"
	"github.com/securecart/securecart/internal/metrics"
	"github.com/securecart/securecart/internal/payments"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/scan"
	"github.com/securecart/securecart/internal/server"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
	"github.com/securecart/securecart/internal/tlsca"
)

// testPANs returns n distinct Luhn-valid Visa numbers.
func testPANs(n int) []string {
	r := rand.New(rand.NewPCG(7, 11))
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		d := []byte("4")
		for len(d) < 15 {
			d = append(d, byte('0'+r.IntN(10)))
		}
		for c := byte('0'); c <= '9'; c++ {
			if pan := string(append(d, c)); luhnOK(pan) {
				if !seen[pan] {
					seen[pan] = true
					out = append(out, pan)
				}
				break
			}
		}
	}
	return out
}

func luhnOK(s string) bool {
	sum := 0
	for i := range len(s) {
		v := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			if v *= 2; v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return sum%10 == 0
}

// TestCardNumbersGoNowhereElse seeds 1,000 card numbers through the API,
// uses them every way the API allows and refuses, then reads every byte the
// process produced (the log, the audit trail, the database and keystore
// files, every answer but detokenize's) for any of them.
func TestCardNumbersGoNowhereElse(t *testing.T) {
	ctx := context.Background()
	h := sqldbtest.Engines()[0].Open(t)
	dir := filepath.Dir(h.Path)
	ks, err := keys.Open(ctx, h.DB, &keys.FileProvider{Path: filepath.Join(dir, "root.key")}, keys.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	s, err := store.Open(ctx, h.DB, ks)
	if err != nil {
		t.Fatal(err)
	}
	pe, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	ca, err := tlsca.OpenCA(filepath.Join(dir, "tls"))
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuf
	ring := logging.NewRing(1000)
	log := slog.New(logging.NewHandler(&logs, ring, &slog.HandlerOptions{Level: slog.LevelDebug}))
	signer, err := ks.AuditSigner(audit.DefaultOrigin)
	if err != nil {
		t.Fatal(err)
	}
	trail, err := audit.Open(filepath.Join(dir, audit.DirName), audit.Options{Origin: audit.DefaultOrigin, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	loop := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	api := server.New(server.Deps{Store: s, Policy: pe, Identity: certKeys{principals, ca}, Payments: payments.New(s),
		Audit: trail, AuditReader: trail.Reader(),
		Logger: log, Logs: ring, Metrics: metrics.New(),
		Networks: map[string][]netip.Prefix{policy.NetworkApplication: loop, policy.NetworkPayment: loop}})
	srv := httptest.NewServer(api)
	defer srv.Close()

	var answers bytes.Buffer // every answer that may not hold a card number
	call := func(key, method, path string, body any) []byte {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, srv.URL+path, rd)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		resp.Header.Write(&answers)
		return out
	}

	pans := testPANs(1000)
	p, err := s.CreateProduct(ctx, store.NewProduct{SKU: "PAN-1", Name: "Socks", Currency: "EUR", Price: 500, Stock: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.CreateCustomer(ctx, store.NewCustomer{Name: "Card Holder", Email: "holder@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	for i, pan := range pans {
		card := map[string]any{"pan": pan, "exp_month": 1 + i%12, "exp_year": 2030, "cardholder_name": "Card Holder"}
		raw := call("app", "POST", "/v1/payments/tokenize", card)
		answers.Write(raw)
		var tok map[string]any
		if err := json.Unmarshal(raw, &tok); err != nil || tok["token"] == nil {
			t.Fatalf("tokenize: %s", raw)
		}
		token := tok["token"].(string)
		if i%10 == 0 {
			// The refusals: a CVC, a wrong check digit, the provider
			// without mTLS, a card number where a token belongs.
			card["cvc"] = "123"
			answers.Write(call("app", "POST", "/v1/payments/tokenize", card))
			bad := pan[:15] + strconv.Itoa((int(pan[15]-'0')+1)%10)
			answers.Write(call("app", "POST", "/v1/payments/tokenize", map[string]any{"pan": bad, "exp_month": 1, "exp_year": 2030}))
			answers.Write(call("pay", "POST", "/v1/payments/detokenize", map[string]any{"token": token, "purpose": "capture"}))
			answers.Write(call("app", "POST", "/v1/orders", map[string]any{"customer_id": c.ID, "currency": "EUR",
				"payment_token": pan, "lines": []any{map[string]any{"sku": p.SKU, "quantity": 1}}}))
		}
		if i%50 == 0 {
			raw := call("app", "POST", "/v1/orders", map[string]any{"customer_id": c.ID, "currency": "EUR",
				"payment_token": token, "lines": []any{map[string]any{"sku": p.SKU, "quantity": 1}}})
			answers.Write(raw)
		}
	}
	answers.Write(call("dev", "GET", "/v1/logs?limit=1000", nil))
	answers.Write(call("dev", "GET", "/metrics", nil))
	log.Info(fmt.Sprintf("a careless line with %s in it", pans[0]))

	srv.Close()
	api.Close()
	if err := trail.Close(); err != nil {
		t.Fatal(err)
	}
	sources := map[string][]byte{"log": []byte(logs.String()), "answers": answers.Bytes()}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	tlsFiles, _ := filepath.Glob(filepath.Join(dir, "tls", "*"))
	auditFiles, _ := filepath.Glob(filepath.Join(dir, audit.DirName, "*"))
	if len(auditFiles) < 2 {
		t.Fatalf("audit files: %v", auditFiles)
	}
	for _, f := range slices.Concat(files, tlsFiles, auditFiles) {
		if b, err := os.ReadFile(f); err == nil {
			sources[filepath.Base(f)] = b
		}
	}
	if len(sources) < 5 {
		t.Fatalf("too little to scan: %d sources", len(sources))
	}
	for name, b := range sources {
		found := 0
		for _, pan := range pans {
			if bytes.Contains(b, []byte(pan)) {
				found++
			}
		}
		for _, m := range scan.Find(b) {
			if m.Detector == scan.DetectorCard {
				found++
			}
		}
		if found > 0 {
			t.Errorf("%s holds %d card numbers", name, found)
		}
	}
}
