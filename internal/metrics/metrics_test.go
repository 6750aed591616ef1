package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var testRoutes = []string{"/v1/customers", "/v1/customers/{id}", "/v1/orders/{id}"}

// scrape fetches m's handler and returns each sample's value by its series,
// as written: `name{label="value",...}`.
func scrape(t *testing.T, m *Metrics) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	body, _ := io.ReadAll(rec.Body)

	out := map[string]float64{}
	for line := range strings.Lines(string(body)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func TestCounters(t *testing.T) {
	tests := []struct {
		name string
		do   func(*Metrics)
		want map[string]float64
	}{
		{"request", func(m *Metrics) {
			m.ObserveRequest("/v1/customers/{id}", "GET", 200, 30*time.Millisecond)
			m.ObserveRequest("/v1/customers/{id}", "GET", 200, 2*time.Second)
			m.ObserveRequest("/v1/customers/{id}", "GET", 404, time.Millisecond)
		}, map[string]float64{
			`http_requests_total{code="200",method="GET",route="/v1/customers/{id}"}`:                 2,
			`http_requests_total{code="404",method="GET",route="/v1/customers/{id}"}`:                 1,
			`http_request_duration_seconds_count{method="GET",route="/v1/customers/{id}"}`:            3,
			`http_request_duration_seconds_bucket{method="GET",route="/v1/customers/{id}",le="0.05"}`: 2,
			`http_request_duration_seconds_bucket{method="GET",route="/v1/customers/{id}",le="+Inf"}`: 3,
		}},
		{"unknown route", func(m *Metrics) {
			m.ObserveRequest("/v1/customers/cus_8f2k3", "GET", 200, 0)
			m.ObserveRequest("/v1/admin/{id}", "GET", 200, 0)
		}, map[string]float64{
			`http_requests_total{code="200",method="GET",route="other"}`: 2,
		}},
		{"odd method and code", func(m *Metrics) {
			m.ObserveRequest("/v1/customers", "BREW", 0, 0)
			m.ObserveRequest("/v1/customers", "get", 999, 0)
		}, map[string]float64{
			`http_requests_total{code="other",method="other",route="/v1/customers"}`: 2,
		}},
		{"authz", func(m *Metrics) {
			m.AuthzDecision(true)
			m.AuthzDecision(false)
			m.AuthzDecision(false)
		}, map[string]float64{
			`authz_decisions_total{effect="allow"}`: 1,
			`authz_decisions_total{effect="deny"}`:  2,
		}},
		{"authz starts at zero", func(*Metrics) {}, map[string]float64{
			`authz_decisions_total{effect="allow"}`: 0,
		}},
		{"sources", func(m *Metrics) {
			m.Read(Sources{
				SealOperations:  func() (uint64, uint64) { return 1, 2 },
				HandshakeErrors: func() uint64 { return 3 },
			})
		}, map[string]float64{
			`seal_operations_total{op="seal"}`: 1,
			`seal_operations_total{op="open"}`: 2,
			`tls_handshake_errors_total`:       3,
		}},
		{"rate limited", func(m *Metrics) {
			m.RateLimited("developer")
			m.RateLimited("cus_8f2k3")
			m.Roles([]string{"auditor"})
			m.RateLimited("auditor")
		}, map[string]float64{
			`rate_limited_total{role="developer"}`: 1,
			`rate_limited_total{role="other"}`:     1,
			`rate_limited_total{role="auditor"}`:   1,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			m.Routes(testRoutes)
			tt.do(m)
			got := scrape(t, m)
			for series, want := range tt.want {
				v, ok := got[series]
				if !ok || v != want {
					t.Errorf("%s = %v (present %v), want %v", series, v, ok, want)
				}
			}
		})
	}
}

func TestHandlerExposesAll(t *testing.T) {
	m := New()
	m.Routes(testRoutes)
	m.ObserveRequest("/v1/orders/{id}", "POST", 201, time.Millisecond)
	m.RateLimited("dba")
	m.Read(Sources{SealOperations: func() (uint64, uint64) { return 0, 0 }, HandshakeErrors: func() uint64 { return 0 }})

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, name := range []string{
		"http_requests_total", "http_request_duration_seconds", "authz_decisions_total",
		"seal_operations_total", "tls_handshake_errors_total", "rate_limited_total",
		"go_goroutines", "process_cpu_seconds_total",
	} {
		if !strings.Contains(body, "# TYPE "+name+" ") {
			t.Errorf("output lacks %s", name)
		}
	}
}

// TestNoRawIDs feeds requests with the raw paths a careless caller might
// pass and checks that every label value on the output is from a bounded
// set.
func TestNoRawIDs(t *testing.T) {
	m := New()
	m.Routes(testRoutes)
	for _, path := range []string{
		"/v1/customers/cus_01HZX4Q8", "/v1/orders/123e4567-e89b-12d3-a456-426614174000",
		"/v1/orders/42", "/v1/customers?email=jane@example.com", "/v1/keys/sck_abcdefgh2345_x",
	} {
		m.ObserveRequest(path, "GET", 200, time.Millisecond)
		m.RateLimited(path)
	}

	allowed := map[string]bool{Other: true, "allow": true, "deny": true, OpSeal: true, OpOpen: true}
	for _, r := range testRoutes {
		allowed[r] = true
	}
	for _, r := range DefaultRoles {
		allowed[r] = true
	}
	label := regexp.MustCompile(`(\w+)="([^"]*)"`)
	ours := regexp.MustCompile(`^(http_|authz_|seal_|tls_|rate_)`)
	for series := range scrape(t, m) {
		if !ours.MatchString(series) {
			continue
		}
		for _, l := range label.FindAllStringSubmatch(series, -1) {
			name, v := l[1], l[2]
			switch name {
			case "code":
				if _, err := strconv.Atoi(v); err != nil && v != Other {
					t.Errorf("%s: code %q", series, v)
				}
			case "method":
				if httpMethod(v) != v {
					t.Errorf("%s: method %q", series, v)
				}
			case "le":
			default:
				if !allowed[v] {
					t.Errorf("%s: %s=%q is not from a bounded set", series, name, v)
				}
			}
		}
	}
}

func TestOwnRegistry(t *testing.T) {
	a, b := New(), New()
	a.RateLimited("dba")
	a.Read(Sources{HandshakeErrors: func() uint64 { return 1 }})
	if got := scrape(t, b)[`rate_limited_total{role="dba"}`]; got != 0 {
		t.Errorf("second Metrics sees the first's count: %v", got)
	}
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "tls_handshake_errors_total" {
			t.Error("metrics registered on the global registry")
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	m := New()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 200 {
				m.ObserveRequest("/v1/customers/{id}", "GET", 200, time.Millisecond)
				m.AuthzDecision(j%2 == 0)
				m.RateLimited("admin")
				if j == 100 {
					m.Routes([]string{"/v1/customers/{id}", "/r" + strconv.Itoa(i)})
				}
			}
		})
	}
	wg.Wait()
	got := scrape(t, m)
	total := got[`http_requests_total{code="200",method="GET",route="/v1/customers/{id}"}`] +
		got[`http_requests_total{code="200",method="GET",route="other"}`]
	if total != 800 {
		t.Errorf("requests counted %v, want 800", total)
	}
	if got[`rate_limited_total{role="admin"}`] != 800 {
		t.Errorf("rate limits counted %v, want 800", got[`rate_limited_total{role="admin"}`])
	}
}
