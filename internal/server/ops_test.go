package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/metrics"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/server"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
)

// TestOperationsEndpoints checks /healthz and /readyz without credentials,
// readiness failing once the database is gone, and that /metrics counts
// the requests, decisions and seals the calls before it made.
func TestOperationsEndpoints(t *testing.T) {
	ctx := context.Background()
	h := sqldbtest.Engines()[0].Open(t)
	ks, err := keys.Open(ctx, h.DB, &keys.FileProvider{Path: filepath.Join(t.TempDir(), "root.key")}, keys.Config{})
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
	m := metrics.New()
	m.Read(metrics.Sources{SealOperations: ks.Operations})
	api := server.New(server.Deps{Store: s, Policy: pe, Identity: principals, Metrics: m,
		Networks: map[string][]netip.Prefix{policy.NetworkApplication: {netip.MustParsePrefix("127.0.0.0/8")}}})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	f := &fixture{t: t, srv: srv, s: s}

	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	if code, body := get("/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Fatalf("/readyz: %d %q", code, body)
	}

	code, c := f.do("app", "POST", "/v1/customers", ada)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, c)
	}
	f.do("dev", "GET", "/v1/customers/"+c["id"].(string), nil)
	f.do("sec", "GET", "/v1/customers/"+c["id"].(string), nil) // refused
	if code, _ := f.do("sec", "GET", "/metrics", nil); code != http.StatusForbidden {
		t.Fatalf("security reads metrics: %d", code)
	}

	req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer dev")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	series := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		name, value, ok := strings.Cut(line, " ")
		if v, err := strconv.ParseFloat(value, 64); ok && err == nil && !strings.HasPrefix(line, "#") {
			series[name] = v
		}
	}
	for name, atLeast := range map[string]float64{
		`http_requests_total{code="201",method="POST",route="/v1/customers"}`:     1,
		`http_requests_total{code="200",method="GET",route="/v1/customers/{id}"}`: 1,
		`http_requests_total{code="403",method="GET",route="/v1/customers/{id}"}`: 1,
		`authz_decisions_total{effect="allow"}`:                                   2,
		`authz_decisions_total{effect="deny"}`:                                    2,
		`seal_operations_total{op="seal"}`:                                        4,
		`seal_operations_total{op="open"}`:                                        4,
	} {
		if series[name] < atLeast {
			t.Errorf("%s = %v, want at least %v", name, series[name], atLeast)
		}
	}
	if !strings.Contains(string(b), "http_request_duration_seconds_bucket{") {
		t.Error("no request latencies")
	}

	// Without its database the node is alive but not ready.
	h.DB.Close()
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz without a database: %d", code)
	}
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "unavailable") {
		t.Fatalf("/readyz without a database: %d %q", code, body)
	}
}
