package server_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/logging"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/server"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
)

// staticKeys authenticates fixed test keys.
type staticKeys map[string]server.Principal

func (s staticKeys) AuthenticateKey(_ context.Context, key string) (server.Principal, error) {
	if p, ok := s[key]; ok {
		return p, nil
	}
	return server.Principal{}, server.ErrUnauthenticated
}

func (s staticKeys) AuthenticateCert(context.Context, *x509.Certificate) (server.Principal, error) {
	return server.Principal{}, server.ErrUnauthenticated
}

var principals = staticKeys{
	"dev":   {ID: "prn_dev", Kind: policy.KindPerson, Roles: []string{policy.RoleDeveloper}},
	"app":   {ID: "prn_app", Kind: policy.KindService, Roles: []string{policy.RoleAppService}},
	"dba":   {ID: "prn_dba", Kind: policy.KindPerson, Roles: []string{policy.RoleDBA}},
	"sec":   {ID: "prn_sec", Kind: policy.KindPerson, Roles: []string{policy.RoleSecurity}},
	"pay":   {ID: "prn_pay", Kind: policy.KindService, Roles: []string{policy.RolePaymentProvider}},
	"admin": {ID: "prn_admin", Kind: policy.KindService, Roles: []string{policy.RoleAdmin}},
}

type fixture struct {
	t   *testing.T
	srv *httptest.Server
	s   *store.Store
}

// openStore opens a fresh store on eng with its keystore, and the default
// policies.
func openStore(t testing.TB, eng sqldbtest.Engine, cfg keys.Config) (*sqldbtest.Handle, *store.Store, *policy.Engine) {
	t.Helper()
	ctx := context.Background()
	h := eng.Open(t)
	ks, err := keys.Open(ctx, h.DB, &keys.FileProvider{Path: filepath.Join(t.TempDir(), "root.key")}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ks.Close)
	s, err := store.Open(ctx, h.DB, ks)
	if err != nil {
		t.Fatal(err)
	}
	pe, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	return h, s, pe
}

func newFixture(t *testing.T, eng sqldbtest.Engine, appNet string, limits map[string]server.Limit) *fixture {
	t.Helper()
	_, s, pe := openStore(t, eng, keys.Config{})
	api := server.New(server.Deps{Store: s, Policy: pe, Identity: principals, Limits: limits,
		Networks: map[string][]netip.Prefix{policy.NetworkApplication: {netip.MustParsePrefix(appNet)}}})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &fixture{t: t, srv: srv, s: s}
}

func (f *fixture) do(key, method, path string, body any) (int, map[string]any) {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Strict-Transport-Security") == "" {
		f.t.Errorf("%s %s: no HSTS header", method, path)
	}
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

var ada = map[string]any{"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+44 20 7946 0958",
	"address": map[string]any{"line1": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB"}}

func TestCustomerVisibilityByRole(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			f := newFixture(t, eng, "127.0.0.0/8", nil)
			code, c := f.do("app", "POST", "/v1/customers", ada)
			if code != 201 || c["email"] != "ada@example.com" || c["masked"] != false {
				t.Fatalf("create as app-service: %d %v", code, c)
			}
			id := c["id"].(string)

			code, c = f.do("dev", "GET", "/v1/customers/"+id, nil)
			if code != 200 || c["masked"] != true || c["email"] != "a•••@example.com" || strings.Contains(c["name"].(string), "Lovelace") {
				t.Fatalf("developer read: %d %v", code, c)
			}
			if addr := c["address"].(map[string]any); addr["line1"] != nil || addr["city"] != "London" {
				t.Fatalf("developer sees the street: %v", addr)
			}
			code, c = f.do("app", "GET", "/v1/customers/"+id, nil)
			if code != 200 || c["email"] != "ada@example.com" {
				t.Fatalf("app-service read: %d %v", code, c)
			}
			// dba without MFA: rows yes, PII masked.
			if code, c = f.do("dba", "GET", "/v1/customers/"+id, nil); code != 200 || c["masked"] != true {
				t.Fatalf("dba read: %d %v", code, c)
			}
			for _, k := range []string{"sec", "pay"} {
				if code, _ := f.do(k, "GET", "/v1/customers/"+id, nil); code != 403 {
					t.Errorf("%s read customer: %d, want 403", k, code)
				}
			}
			if code, _ := f.do("dev", "POST", "/v1/customers", ada); code != 403 {
				t.Errorf("developer create: %d, want 403", code)
			}
			if code, _ := f.do("", "GET", "/v1/customers/"+id, nil); code != 401 {
				t.Errorf("no credentials: %d, want 401", code)
			}
			if code, _ := f.do("forged", "GET", "/v1/customers/"+id, nil); code != 401 {
				t.Errorf("unknown key: %d, want 401", code)
			}

			code, c = f.do("app", "POST", "/v1/customers/lookup", map[string]any{"email": "ADA@example.com"})
			if code != 200 || c["id"] != id {
				t.Fatalf("lookup: %d %v", code, c)
			}
			code, c = f.do("dev", "GET", "/v1/customers?limit=10", nil)
			if code != 200 || len(c["items"].([]any)) != 1 {
				t.Fatalf("list: %d %v", code, c)
			}
		})
	}
}

func TestAppServiceHeldToItsNetwork(t *testing.T) {
	f := newFixture(t, sqldbtest.Engines()[0], "10.20.0.0/16", nil)
	if code, _ := f.do("app", "POST", "/v1/customers", ada); code != 403 {
		t.Fatalf("app-service from outside its network: %d, want 403", code)
	}
}

func TestOrdersFlow(t *testing.T) {
	f := newFixture(t, sqldbtest.Engines()[0], "127.0.0.0/8", nil)
	_, c := f.do("app", "POST", "/v1/customers", ada)
	id := c["id"].(string)
	code, p := f.do("dba", "POST", "/v1/products", map[string]any{"sku": "MUG-1", "name": "Mug", "price": 1250, "currency": "EUR", "stock": 2})
	if code != 201 {
		t.Fatalf("create product: %d %v", code, p)
	}
	if code, _ := f.do("dev", "GET", "/v1/products", nil); code != 200 {
		t.Fatalf("public read: %d", code)
	}
	order := map[string]any{"customer_id": id, "currency": "EUR", "notes": "leave at the door",
		"lines": []any{map[string]any{"sku": "MUG-1", "quantity": 2}}}
	code, o := f.do("app", "POST", "/v1/orders", order)
	if code != 201 || o["total"] != float64(2500) || o["notes"] != "leave at the door" {
		t.Fatalf("create order: %d %v", code, o)
	}
	if code, p := f.do("app", "POST", "/v1/orders", order); code != 409 || p["code"] != "conflict" {
		t.Fatalf("order without stock: %d %v", code, p)
	}
	oid := o["id"].(string)
	if code, o := f.do("dev", "GET", "/v1/orders/"+oid, nil); code != 200 || o["notes"] != policy.Masked {
		t.Fatalf("developer reads notes: %d %v", code, o)
	}
	code, o = f.do("app", "POST", "/v1/orders/"+oid+"/status", map[string]any{"version": 1, "status": "paid"})
	if code != 200 || o["status"] != "paid" {
		t.Fatalf("status: %d %v", code, o)
	}
	if code, _ := f.do("app", "POST", "/v1/orders/"+oid+"/status", map[string]any{"version": 1, "status": "shipped"}); code != 409 {
		t.Fatalf("stale status: %d", code)
	}
	// Export and erasure belong to the customer itself and to a dba with
	// MFA; the storefront's service account may do neither.
	if code, _ := f.do("app", "GET", "/v1/customers/"+id+"/export", nil); code != 403 {
		t.Fatalf("export as app-service: %d, want 403", code)
	}
	if code, _ := f.do("app", "DELETE", "/v1/customers/"+id, nil); code != 403 {
		t.Fatalf("erase as app-service: %d, want 403", code)
	}
	code, list := f.do("dev", "GET", "/v1/customers/"+id+"/orders", nil)
	if code != 200 || len(list["items"].([]any)) != 1 {
		t.Fatalf("list orders: %d %v", code, list)
	}
}

func TestBadInput(t *testing.T) {
	f := newFixture(t, sqldbtest.Engines()[0], "127.0.0.0/8", nil)
	cases := []struct {
		body any
		code int
		pc   string
	}{
		{map[string]any{"name": "A", "email": "a@example.com", "ssn": "078-05-1120"}, 400, "malformed_body"},
		{map[string]any{"name": 12, "email": "a@example.com"}, 400, "invalid_field"},
		{map[string]any{"name": "A", "email": "not-an-email"}, 400, "invalid_field"},
		{map[string]any{"name": strings.Repeat("x", 70000), "email": "a@example.com"}, 413, "body_too_large"},
	}
	for _, c := range cases {
		code, p := f.do("app", "POST", "/v1/customers", c.body)
		if code != c.code || p["code"] != c.pc {
			t.Errorf("%v: %d %v", c.body, code, p["code"])
		}
		if b, _ := json.Marshal(p); bytes.Contains(b, []byte("078-05-1120")) {
			t.Errorf("the problem repeats the body: %s", b)
		}
	}
	if code, _ := f.do("app", "GET", "/v1/nope", nil); code != 404 {
		t.Errorf("unknown path: %d", code)
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t, sqldbtest.Engines()[0], "127.0.0.0/8",
		map[string]server.Limit{policy.RoleDeveloper: {Rate: 1, Burst: 3}})
	codes := map[int]int{}
	for range 6 {
		code, _ := f.do("dev", "GET", "/v1/products", nil)
		codes[code]++
	}
	if codes[200] != 3 || codes[429] != 3 {
		t.Fatalf("codes = %v", codes)
	}
	// Another principal is not affected.
	if code, _ := f.do("app", "GET", "/v1/products", nil); code != 200 {
		t.Fatalf("app-service limited by the developer's use: %d", code)
	}
}

func TestOpenAPIServed(t *testing.T) {
	f := newFixture(t, sqldbtest.Engines()[0], "127.0.0.0/8", nil)
	resp, err := http.Get(f.srv.URL + "/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi.json: %v %v", err, doc["openapi"])
	}
}

func (f *fixture) post(key, idem, path string, body any) (*http.Response, map[string]any) {
	f.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", f.srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", idem)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

func TestIdempotencyKey(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			f := newFixture(t, eng, "127.0.0.0/8", nil)
			r1, c1 := f.post("app", "signup-42", "/v1/customers", ada)
			r2, c2 := f.post("app", "signup-42", "/v1/customers", ada)
			if r1.StatusCode != 201 || r2.StatusCode != 201 || c1["id"] != c2["id"] {
				t.Fatalf("retry: %d %d, ids %v %v", r1.StatusCode, r2.StatusCode, c1["id"], c2["id"])
			}
			if r2.Header.Get("Idempotent-Replayed") != "true" || r1.Header.Get("Idempotent-Replayed") != "" {
				t.Fatal("replay not marked")
			}
			other := map[string]any{"name": "Grace Hopper", "email": "grace@example.com"}
			if r, p := f.post("app", "signup-42", "/v1/customers", other); r.StatusCode != 422 || p["code"] != "idempotency_key_reused" {
				t.Fatalf("key reused with another body: %d %v", r.StatusCode, p)
			}
			// Keys are per principal: the dba's same key is a new request.
			if r, p := f.post("dba", "signup-42", "/v1/products", map[string]any{"sku": "K-1", "name": "K", "currency": "EUR"}); r.StatusCode != 201 {
				t.Fatalf("another principal's key: %d %v", r.StatusCode, p)
			}
			// A failed create releases its key for a corrected retry.
			bad := map[string]any{"name": "X", "email": "not-an-email"}
			if r, _ := f.post("app", "retry-1", "/v1/customers", bad); r.StatusCode != 400 {
				t.Fatalf("bad create: %d", r.StatusCode)
			}
			if r, _ := f.post("app", "retry-1", "/v1/customers", bad); r.StatusCode != 400 {
				t.Fatalf("the failed request's key was kept: %d", r.StatusCode)
			}
			if r, _ := f.post("app", "bad key!", "/v1/customers", other); r.StatusCode != 400 {
				t.Fatalf("malformed key: %d", r.StatusCode)
			}
			_, list := f.do("dev", "GET", "/v1/customers", nil)
			if n := len(list["items"].([]any)); n != 1 {
				t.Fatalf("%d customers created, want 1", n)
			}
		})
	}
}

// TestLogsNeverHoldPII runs requests that carry PII, some refused, with the
// real log handler, then looks for the seeded values in every line written
// and in what GET /v1/logs serves.
func TestLogsNeverHoldPII(t *testing.T) {
	var buf syncBuf
	ring := logging.NewRing(1000)
	log := slog.New(logging.NewHandler(&buf, ring, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, s, pe := openStore(t, sqldbtest.Engines()[0], keys.Config{Logger: log})
	api := server.New(server.Deps{Store: s, Policy: pe, Identity: principals, Logger: log, Logs: ring,
		Networks: map[string][]netip.Prefix{policy.NetworkApplication: {netip.MustParsePrefix("127.0.0.0/8")}}})
	srv := httptest.NewServer(api)
	defer srv.Close()
	f := &fixture{t: t, srv: srv, s: s}

	seeded := []string{"Ada Lovelace", "ada@example.com", "7946 0958", "St James's Square", "4111111111111111"}
	_, c := f.do("app", "POST", "/v1/customers", ada)
	id := c["id"].(string)
	f.do("dev", "POST", "/v1/customers", ada) // refused
	f.do("app", "POST", "/v1/customers", ada) // duplicate
	f.do("app", "POST", "/v1/customers/lookup", map[string]any{"email": "ada@example.com"})
	f.do("sec", "GET", "/v1/customers/"+id, nil) // refused
	f.do("app", "POST", "/v1/customers", map[string]any{"name": "4111111111111111", "email": "x"})
	log.Info("payment for ada@example.com with 4111111111111111") // a careless caller
	_, logs := f.do("dev", "GET", "/v1/logs?limit=1000", nil)
	served, _ := json.Marshal(logs)

	if !strings.Contains(buf.String(), "denied") || len(logs["lines"].([]any)) == 0 {
		t.Fatalf("no log lines to check:\n%s", buf.String())
	}
	for _, v := range seeded {
		if strings.Contains(buf.String(), v) || bytes.Contains(served, []byte(v)) {
			t.Errorf("%q reached the log", v)
		}
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMaskedReadIsNotADenial checks that a read answered with masked PII
// is not logged as a refusal, while a refused read still is.
func TestMaskedReadIsNotADenial(t *testing.T) {
	var buf syncBuf
	log := slog.New(logging.NewHandler(&buf, logging.NewRing(100), nil))
	_, s, pe := openStore(t, sqldbtest.Engines()[0], keys.Config{})
	api := server.New(server.Deps{Store: s, Policy: pe, Identity: principals, Logger: log,
		Networks: map[string][]netip.Prefix{policy.NetworkApplication: {netip.MustParsePrefix("127.0.0.0/8")}}})
	srv := httptest.NewServer(api)
	defer srv.Close()
	f := &fixture{t: t, srv: srv, s: s}

	_, c := f.do("app", "POST", "/v1/customers", ada)
	id := c["id"].(string)
	code, got := f.do("dev", "GET", "/v1/customers/"+id, nil)
	if code != http.StatusOK || got["email"] == ada["email"] {
		t.Fatalf("developer read: %d %v, want 200 with masked fields", code, got)
	}
	if strings.Contains(buf.String(), "denied") {
		t.Fatalf("a masked read was logged as a denial:\n%s", buf.String())
	}
	f.do("sec", "GET", "/v1/customers/"+id, nil)
	if !strings.Contains(buf.String(), "denied") {
		t.Fatalf("a refused read was not logged:\n%s", buf.String())
	}
}
