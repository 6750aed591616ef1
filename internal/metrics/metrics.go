package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Other is the label value of everything outside a label's allowed set.
const Other = "other"

// Seal operations, the values of seal_operations_total's op label.
const (
	OpSeal = "seal"
	OpOpen = "open"
)

// DefaultRoles are the roles of the default policy set, which
// rate_limited_total counts by name until Roles adds others.
var DefaultRoles = []string{
	"developer", "security", "dba", "app-service", "payment-provider", "customer", "admin",
}

// durationBuckets span a cached read (1 ms) to a slow export (10 s).
var durationBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Metrics is the set of SecureCart's metrics and the registry that serves
// them. Its methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	authz       *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	auditLost   prometheus.Counter

	mu     sync.RWMutex
	routes map[string]bool
	roles  map[string]bool
}

// New returns the metrics, registered on a new registry with the Go and
// process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests served, by route template, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by route template and method.",
			Buckets: durationBuckets,
		}, []string{"route", "method"}),
		authz: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authz_decisions_total",
			Help: "Authorization decisions, by effect (allow or deny).",
		}, []string{"effect"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rate_limited_total",
			Help: "Requests refused by a rate limit, by the caller's role.",
		}, []string{"role"}),
		auditLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "audit_unavailable_total",
			Help: "Audit records the trail could not make durable; their requests were refused, or their outcomes lost.",
		}),
		routes: map[string]bool{},
		roles:  map[string]bool{},
	}
	m.reg.MustRegister(
		m.requests, m.duration, m.authz, m.rateLimited, m.auditLost,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.Roles(DefaultRoles)

	// Series of small fixed sets start at zero, so that rates over them
	// are defined from the first scrape.
	for _, e := range []string{"allow", "deny"} {
		m.authz.WithLabelValues(e)
	}
	return m
}

// Registry returns the registry the metrics are on, for a caller that
// adds its own collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Routes adds route templates to the set ObserveRequest counts by name.
func (m *Metrics) Routes(routes []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range routes {
		m.routes[r] = true
	}
}

// Roles adds roles to the set RateLimited counts by name.
func (m *Metrics) Roles(roles []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range roles {
		m.roles[r] = true
	}
}

// ObserveRequest counts one served request and its duration. route is the
// template the request matched; see the package documentation.
func (m *Metrics) ObserveRequest(route, method string, code int, d time.Duration) {
	route, method = m.allowed(m.routes, route), httpMethod(method)
	m.requests.WithLabelValues(route, method, statusCode(code)).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
}

// AuthzDecision counts one authorization decision.
func (m *Metrics) AuthzDecision(allowed bool) {
	effect := "deny"
	if allowed {
		effect = "allow"
	}
	m.authz.WithLabelValues(effect).Inc()
}

// Sources are counters that other components keep themselves; the
// metrics read them at each scrape, so counting costs those components one
// atomic add and nothing here.
type Sources struct {
	// SealOperations returns how many fields were sealed and opened.
	SealOperations func() (seals, opens uint64)
	// HandshakeErrors returns how many TLS handshakes failed.
	HandshakeErrors func() uint64
}

// Read registers the counters of src that are set. Call it once per
// Metrics.
func (m *Metrics) Read(src Sources) {
	if src.SealOperations != nil {
		m.reg.MustRegister(sealCollector(src.SealOperations))
	}
	if src.HandshakeErrors != nil {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tls_handshake_errors_total",
			Help: "TLS handshakes that failed.",
		}, func() float64 { return float64(src.HandshakeErrors()) }))
	}
}

var sealDesc = prometheus.NewDesc("seal_operations_total",
	"Field envelope operations, by operation (seal or open).", []string{"op"}, nil)

// sealCollector reports seal_operations_total from a function.
type sealCollector func() (seals, opens uint64)

func (c sealCollector) Describe(ch chan<- *prometheus.Desc) { ch <- sealDesc }

func (c sealCollector) Collect(ch chan<- prometheus.Metric) {
	seals, opens := c()
	ch <- prometheus.MustNewConstMetric(sealDesc, prometheus.CounterValue, float64(seals), OpSeal)
	ch <- prometheus.MustNewConstMetric(sealDesc, prometheus.CounterValue, float64(opens), OpOpen)
}

// AuditUnavailable counts one audit record that could not be made
// durable.
func (m *Metrics) AuditUnavailable() { m.auditLost.Inc() }

// RateLimited counts one request refused by a rate limit.
func (m *Metrics) RateLimited(role string) {
	m.rateLimited.WithLabelValues(m.allowed(m.roles, role)).Inc()
}

// allowed returns v if set holds it, else Other.
func (m *Metrics) allowed(set map[string]bool, v string) string {
	m.mu.RLock()
	ok := set[v]
	m.mu.RUnlock()
	if !ok {
		return Other
	}
	return v
}

func httpMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return Other
}

func statusCode(code int) string {
	if code < 100 || code > 599 {
		return Other
	}
	return strconv.Itoa(code)
}
