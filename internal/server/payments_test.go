package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/payments"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/server"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
	"github.com/securecart/securecart/internal/tlsca"
)

// certKeys is staticKeys that also maps the local CA's client
// certificates to the payment provider.
type certKeys struct {
	staticKeys
	ca *tlsca.CA
}

func (k certKeys) AuthenticateCert(_ context.Context, cert *x509.Certificate) (server.Principal, error) {
	if id, ok := k.ca.PrincipalFromCert(cert); ok && id == "prn_pay" {
		return k.staticKeys["pay"], nil
	}
	return server.Principal{}, server.ErrUnauthenticated
}

// vaultFixture serves the API over HTTPS with the payment network given,
// and has a client that presents the payment provider's certificate.
type vaultFixture struct {
	t          *testing.T
	url        string
	plain, tls *http.Client
	s          *store.Store
	vault      *payments.Vault
	api        *server.API
}

func newVaultFixture(t *testing.T, eng sqldbtest.Engine, payNet string) *vaultFixture {
	return newVaultFixtureWith(t, eng, vaultSetup{payNet: payNet})
}

// vaultSetup is what a vault fixture varies: the payment network, the
// rate limits and the audit trail.
type vaultSetup struct {
	payNet string
	limits map[string]server.Limit
	audit  server.Auditor
	keys   staticKeys
}

func newVaultFixtureWith(t *testing.T, eng sqldbtest.Engine, vs vaultSetup) *vaultFixture {
	t.Helper()
	ctx := context.Background()
	_, s, pe := openStore(t, eng, keys.Config{})
	ca, err := tlsca.OpenCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if vs.keys == nil {
		vs.keys = principals
	}
	loop := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	vault := payments.New(s)
	api := server.New(server.Deps{Store: s, Policy: pe, Identity: certKeys{vs.keys, ca}, Payments: vault,
		Audit: vs.audit, Limits: vs.limits,
		Networks: map[string][]netip.Prefix{policy.NetworkApplication: loop,
			policy.NetworkPayment: {netip.MustParsePrefix(vs.payNet)}}})
	certs, err := tlsca.NewServerCerts(ctx, ca, tlsca.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { certs.Close() })
	srv := httptest.NewUnstartedServer(api)
	srv.TLS = tlsca.ServerConfig(certs.GetCertificate, ca.Pool())
	srv.StartTLS()
	t.Cleanup(func() {
		srv.Close()
		api.Close()
	})

	certPEM, keyPEM, err := ca.IssueClient("prn_pay", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Certificate())
	return &vaultFixture{t: t, s: s, vault: vault, api: api, url: strings.Replace(srv.URL, "127.0.0.1", "localhost", 1),
		plain: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
		tls: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool,
			Certificates: []tls.Certificate{pair}}}}}
}

// call sends body as key (or with the client certificate when key is
// empty) and returns the status, the headers and the raw answer.
func (f *vaultFixture) call(key, method, path string, body any) (int, http.Header, []byte) {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.url+path, rd)
	req.Header.Set("Content-Type", "application/json")
	client := f.tls
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
		client = f.plain
	}
	resp, err := client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out
}

func TestTokenizeAndDetokenize(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			f := newVaultFixture(t, eng, "127.0.0.0/8")
			card := map[string]any{"pan": "4111111111111111", "exp_month": 12, "exp_year": 2040, "cardholder_name": "Ada Lovelace"}
			code, _, raw := f.call("app", "POST", "/v1/payments/tokenize", card)
			if code != http.StatusCreated {
				t.Fatalf("tokenize: %d %s", code, raw)
			}
			var tok map[string]any
			json.Unmarshal(raw, &tok)
			if bytes.Contains(raw, []byte("4111111111111111")) || bytes.Contains(raw, []byte("41111111")) ||
				tok["last4"] != "1111" || tok["brand"] != "visa" || !strings.HasPrefix(tok["token"].(string), "tok_") {
				t.Fatalf("tokenize answered %s", raw)
			}
			_, _, raw2 := f.call("app", "POST", "/v1/payments/tokenize", card)
			var tok2 map[string]any
			json.Unmarshal(raw2, &tok2)
			if tok2["token"] == tok["token"] || tok2["fingerprint"] != tok["fingerprint"] {
				t.Fatalf("the same card twice: %s and %s; want two tokens and one fingerprint", raw, raw2)
			}

			req := map[string]any{"token": tok["token"], "purpose": "capture"}
			code, h, raw := f.call("", "POST", "/v1/payments/detokenize", req)
			if code != http.StatusOK || !bytes.Contains(raw, []byte(`"pan":"4111111111111111"`)) {
				t.Fatalf("detokenize over mTLS: %d %s", code, raw)
			}
			if h.Get("Cache-Control") != "no-store" {
				t.Errorf("detokenize Cache-Control %q", h.Get("Cache-Control"))
			}

			// Every refusal: another role, the provider without mTLS, no
			// purpose, an unknown purpose, an unknown token.
			for _, tt := range []struct {
				name, key string
				body      any
				want      int
			}{
				{"app-service", "app", req, http.StatusForbidden},
				{"admin", "admin", req, http.StatusForbidden},
				{"provider without mTLS", "pay", req, http.StatusForbidden},
				{"no purpose", "", map[string]any{"token": tok["token"]}, http.StatusForbidden},
				{"unknown purpose", "", map[string]any{"token": tok["token"], "purpose": "curiosity"}, http.StatusBadRequest},
				{"unknown token", "", map[string]any{"token": "tok_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "purpose": "refund"}, http.StatusNotFound},
				{"not a token", "", map[string]any{"token": "4111111111111111", "purpose": "refund"}, http.StatusNotFound},
			} {
				code, _, raw := f.call(tt.key, "POST", "/v1/payments/detokenize", tt.body)
				if code != tt.want || bytes.Contains(raw, []byte("4111111111111111")) {
					t.Errorf("%s: %d %s, want %d without the card number", tt.name, code, raw, tt.want)
				}
			}
		})
	}
}

func TestDetokenizeOnlyFromThePaymentNetwork(t *testing.T) {
	f := newVaultFixture(t, sqldbtest.Engines()[0], "10.9.0.0/24")
	_, _, raw := f.call("app", "POST", "/v1/payments/tokenize",
		map[string]any{"pan": "5555555555554444", "exp_month": 1, "exp_year": 2040})
	var tok map[string]any
	json.Unmarshal(raw, &tok)
	code, _, raw := f.call("", "POST", "/v1/payments/detokenize", map[string]any{"token": tok["token"], "purpose": "capture"})
	if code != http.StatusForbidden || bytes.Contains(raw, []byte("5555555555554444")) {
		t.Fatalf("detokenize from outside the payment network: %d %s", code, raw)
	}
}

func TestTokenizeRefusesBadCards(t *testing.T) {
	f := newVaultFixture(t, sqldbtest.Engines()[0], "127.0.0.0/8")
	for _, tt := range []struct {
		name string
		body map[string]any
		code string
	}{
		{"cvc", map[string]any{"pan": "4111111111111111", "exp_month": 12, "exp_year": 2040, "cvc": "123"}, payments.CodeCVCRefused},
		{"cvv", map[string]any{"pan": "4111111111111111", "exp_month": 12, "exp_year": 2040, "CVV": 123}, payments.CodeCVCRefused},
		{"luhn", map[string]any{"pan": "4111111111111112", "exp_month": 12, "exp_year": 2040}, payments.CodeInvalidNumber},
		{"length", map[string]any{"pan": "41111111111", "exp_month": 12, "exp_year": 2040}, payments.CodeInvalidNumber},
		{"digits", map[string]any{"pan": "4111-1111-1111-1111", "exp_month": 12, "exp_year": 2040}, payments.CodeInvalidNumber},
		{"brand", map[string]any{"pan": "9999999999999995", "exp_month": 12, "exp_year": 2040}, payments.CodeUnknownBrand},
		{"past", map[string]any{"pan": "4111111111111111", "exp_month": 1, "exp_year": 2020}, payments.CodeCardExpired},
		{"month", map[string]any{"pan": "4111111111111111", "exp_month": 0, "exp_year": 2040}, payments.CodeInvalidExpiry},
		{"ttl", map[string]any{"pan": "4111111111111111", "exp_month": 1, "exp_year": 2040, "ttl_seconds": -1}, payments.CodeInvalidOption},
		{"number as json number", map[string]any{"pan": 4111111111111111, "exp_month": 1, "exp_year": 2040}, "invalid_field"},
	} {
		code, _, raw := f.call("app", "POST", "/v1/payments/tokenize", tt.body)
		var p map[string]any
		json.Unmarshal(raw, &p)
		if code != http.StatusBadRequest || p["code"] != tt.code {
			t.Errorf("%s: %d %s, want 400 %s", tt.name, code, raw, tt.code)
		}
		pan := tt.body["pan"]
		if s, ok := pan.(string); ok && len(s) > 8 && bytes.Contains(raw, []byte(s[:8])) {
			t.Errorf("%s: the answer repeats the card number: %s", tt.name, raw)
		}
		if bytes.Contains(raw, []byte("4111111111111111")) {
			t.Errorf("%s: the answer repeats the card number: %s", tt.name, raw)
		}
	}
}

func TestTransactionView(t *testing.T) {
	f := newVaultFixture(t, sqldbtest.Engines()[0], "127.0.0.0/8")
	ctx := context.Background()
	_, _, raw := f.call("app", "POST", "/v1/payments/tokenize",
		map[string]any{"pan": "378282246310005", "exp_month": 1, "exp_year": 2040})
	var tok map[string]any
	json.Unmarshal(raw, &tok)
	c, err := f.s.CreateCustomer(ctx, store.NewCustomer{Name: "Grace Hopper", Email: "grace@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.s.CreateProduct(ctx, store.NewProduct{SKU: "T-1", Name: "Tea", Currency: "EUR", Price: 450, Stock: 5})
	if err != nil {
		t.Fatal(err)
	}
	o, err := f.s.CreateOrder(ctx, store.NewOrder{CustomerID: c.ID, Currency: "EUR", PaymentToken: tok["token"].(string),
		Lines: []store.NewOrderLine{{SKU: p.SKU, Quantity: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	code, _, raw := f.call("", "GET", "/v1/transactions/"+o.ID, nil)
	var v map[string]any
	json.Unmarshal(raw, &v)
	if code != http.StatusOK || v["amount"] != 900.0 || v["last4"] != "0005" || v["token"] != tok["token"] {
		t.Fatalf("transaction: %d %s", code, raw)
	}
	if bytes.Contains(raw, []byte(c.ID)) || bytes.Contains(raw, []byte("Grace")) || len(v) != 6 {
		t.Fatalf("the transaction says something about the customer: %s", raw)
	}
	if code, _, _ := f.call("app", "GET", "/v1/transactions/"+o.ID, nil); code != http.StatusForbidden {
		t.Fatalf("app-service read a transaction: %d", code)
	}
}
