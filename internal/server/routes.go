package server

import (
	_ "embed"
	"net/http"
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
	for _, rt := range a.table() {
		m.HandleFunc(rt.method+" "+rt.path, a.authed(rt.h))
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
