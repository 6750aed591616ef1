package server

import (
	_ "embed"
	"encoding/json"
	"net/http"

	"github.com/securecart/securecart/internal/policy"
)

// route is one operation of API v1. The table is the single list of
// operations: the router is built from it, and a test checks it against the
// OpenAPI document.
type route struct {
	method, path string
	h            handler
}

func (a *API) table() []route {
	return []route{
		{"POST", "/v1/customers", a.createCustomer},
		{"GET", "/v1/customers", a.listCustomers},
		{"POST", "/v1/customers/lookup", a.lookupCustomer},
		{"GET", "/v1/customers/{id}", a.getCustomer},
		{"PATCH", "/v1/customers/{id}", a.updateCustomer},
		{"DELETE", "/v1/customers/{id}", a.eraseCustomer},
		{"GET", "/v1/customers/{id}/export", a.exportCustomer},
		{"GET", "/v1/customers/{id}/orders", a.listCustomerOrders},
		{"POST", "/v1/customers/{id}/tokens", a.issueCustomerToken},

		{"POST", "/v1/products", a.createProduct},
		{"GET", "/v1/products", a.listProducts},
		{"GET", "/v1/products/{id}", a.getProduct},
		{"PATCH", "/v1/products/{id}", a.updateProduct},
		{"DELETE", "/v1/products/{id}", a.deleteProduct},

		{"POST", "/v1/orders", a.createOrder},
		{"GET", "/v1/orders/{id}", a.getOrder},
		{"POST", "/v1/orders/{id}/status", a.updateOrderStatus},

		{"POST", "/v1/principals", a.createPrincipal},
		{"GET", "/v1/principals", a.listPrincipals},
		{"POST", "/v1/principals/{id}/keys", a.createPrincipalKey},
		{"POST", "/v1/principals/{id}/disable", a.disablePrincipal},
		{"DELETE", "/v1/keys/{id}", a.revokeKey},
		{"POST", "/v1/principals/{id}/password", a.setPassword},
		{"POST", "/v1/principals/{id}/totp", a.beginTOTP},
		{"POST", "/v1/principals/{id}/totp/confirm", a.confirmTOTP},
		{"DELETE", "/v1/principals/{id}/sessions", a.endSessions},
		{"POST", "/v1/principals/{id}/certificates", a.issueCertificate},

		{"POST", "/v1/sessions", a.signIn},
		{"DELETE", "/v1/sessions/current", a.signOut},

		{"POST", "/v1/payments/tokenize", a.tokenize},
		{"POST", "/v1/payments/detokenize", a.detokenize},
		{"DELETE", "/v1/payments/tokens/{token}", a.deleteCardToken},
		{"GET", "/v1/transactions/{order}", a.transaction},

		{"GET", "/v1/policies", a.listPolicyVersions},
		{"POST", "/v1/policies", a.applyPolicies},
		{"POST", "/v1/policies/check", a.checkPolicies},
		{"GET", "/v1/policies/{version}", a.getPolicyVersion},
		{"POST", "/v1/policies/{version}/rollback", a.rollbackPolicies},
		{"GET", "/v1/access/analysis", a.accessAnalysis},

		{"GET", "/v1/keys", a.listKeys},
		{"POST", "/v1/keys/{domain}/rotate", a.rotateKey},
		{"POST", "/v1/keys/rewrap", a.rewrapKeys},
		{"POST", "/v1/keys/{domain}/versions/{version}/destroy", a.destroyKey},

		{"GET", "/v1/backups/status", a.backupStatus},
		{"POST", "/v1/backups/restore-record", a.restoreRecord},

		{"GET", "/v1/audit", a.auditTrail},
		{"GET", "/v1/logs", a.logs},
		{"GET", "/metrics", a.metrics},
	}
}

//go:embed openapi.json
var openAPI []byte

// routes registers the operations. Paths are templates; ids never appear
// in a route name, so metrics and logs keyed by route stay bounded.
func (a *API) routes() {
	m := a.mux
	m.HandleFunc("GET /healthz", a.healthz)
	m.HandleFunc("GET /readyz", a.readyz)
	m.HandleFunc("GET /v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPI)
	})
	var paths []string
	for _, rt := range a.table() {
		wrap := a.authed
		if publicRoutes[rt.method+" "+rt.path] {
			wrap = a.public
		}
		m.HandleFunc(rt.method+" "+rt.path, wrap(rt.h))
		paths = append(paths, rt.path)
	}
	if a.d.Metrics != nil {
		a.d.Metrics.Routes(paths)
	}
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { WriteProblem(w, ProblemNotFound) })
}

func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte("ok\n"))
}

// readyz checks that the database answers.
func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	if _, _, err := a.d.Store.ChangeHead(r.Context()); err != nil {
		WriteProblem(w, ProblemUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte("ready\n"))
}

// logs serves the recent log lines, redacted when they were written.
func (a *API) logs(c *call) {
	if !a.allowed(c, policy.ReadLogs, resource{typ: policy.TypeCollection, id: "logs"}) {
		c.problem(ProblemForbidden)
		return
	}
	limit := 100
	if _, l, ok := pageArgs(c); !ok {
		return
	} else if c.r.URL.Query().Has("limit") {
		limit = l
	}
	lines := []json.RawMessage{}
	if a.d.Logs != nil {
		lines = append(lines, a.d.Logs.Lines(limit)...)
	}
	c.json(http.StatusOK, map[string]any{"lines": lines})
}

// metrics serves the Prometheus metrics to roles that may read them.
func (a *API) metrics(c *call) {
	if !a.allowed(c, policy.ReadMetrics, resource{typ: policy.TypeCollection, id: "metrics"}) {
		c.problem(ProblemForbidden)
		return
	}
	if a.d.Metrics == nil {
		c.problem(ProblemUnavailable)
		return
	}
	a.d.Metrics.Handler().ServeHTTP(c.w, c.r)
}
