package server

import "net/http"

// routes registers API v1. Paths are templates; ids never appear in a
// route name, so metrics and logs keyed by route stay bounded.
func (a *API) routes() {
	m := a.mux
	m.HandleFunc("GET /healthz", a.healthz)
	m.HandleFunc("GET /readyz", a.readyz)

	m.HandleFunc("POST /v1/customers", a.authed(a.createCustomer))
	m.HandleFunc("GET /v1/customers", a.authed(a.listCustomers))
	m.HandleFunc("POST /v1/customers/lookup", a.authed(a.lookupCustomer))
	m.HandleFunc("GET /v1/customers/{id}", a.authed(a.getCustomer))
	m.HandleFunc("PATCH /v1/customers/{id}", a.authed(a.updateCustomer))
	m.HandleFunc("DELETE /v1/customers/{id}", a.authed(a.eraseCustomer))
	m.HandleFunc("GET /v1/customers/{id}/export", a.authed(a.exportCustomer))
	m.HandleFunc("GET /v1/customers/{id}/orders", a.authed(a.listCustomerOrders))

	m.HandleFunc("POST /v1/products", a.authed(a.createProduct))
	m.HandleFunc("GET /v1/products", a.authed(a.listProducts))
	m.HandleFunc("GET /v1/products/{id}", a.authed(a.getProduct))
	m.HandleFunc("PATCH /v1/products/{id}", a.authed(a.updateProduct))
	m.HandleFunc("DELETE /v1/products/{id}", a.authed(a.deleteProduct))

	m.HandleFunc("POST /v1/orders", a.authed(a.createOrder))
	m.HandleFunc("GET /v1/orders/{id}", a.authed(a.getOrder))
	m.HandleFunc("POST /v1/orders/{id}/status", a.authed(a.updateOrderStatus))

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
