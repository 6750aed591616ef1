package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/backup"
	"github.com/securecart/securecart/internal/identity"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/logging"
	"github.com/securecart/securecart/internal/metrics"
	"github.com/securecart/securecart/internal/payments"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/policy/versions"
	"github.com/securecart/securecart/internal/server"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
	"github.com/securecart/securecart/internal/tlsca"
)

// The role matrix of DESIGN.md, one row per operation, one column per role
// in matrixRoles order: Y allowed, N refused. Nobody here presents MFA, so
// the operations that need it (export and erasure by a dba) are refused.
var matrixRoles = []string{"dev", "sec", "dba", "app", "pay", "admin"}

var matrix = []struct {
	method, path string
	body         func(ids) any
	want         string
}{
	{"POST", "/v1/customers", func(ids) any { return newCustomerBody() }, "NNYYNN"},
	{"GET", "/v1/customers", nil, "YNYNNN"},
	{"POST", "/v1/customers/lookup", func(i ids) any { return map[string]any{"email": i.email} }, "YNYYNN"},
	{"GET", "/v1/customers/{c}", nil, "YNYYNN"},
	{"PATCH", "/v1/customers/{c}", func(ids) any { return map[string]any{"version": 1, "phone": "+1 555 0199"} }, "NNYYNN"},
	{"DELETE", "/v1/customers/{c}", nil, "NNNNNN"},
	{"GET", "/v1/customers/{c}/export", nil, "NNNNNN"},
	{"GET", "/v1/customers/{c}/orders", nil, "YNYYNN"},
	{"POST", "/v1/customers/{c}/tokens", nil, "NNNYNN"},
	{"POST", "/v1/products", func(ids) any { return map[string]any{"sku": sku(), "name": "N", "currency": "EUR"} }, "NNYNNN"},
	// The payment provider is refused everything without mTLS, even the
	// public catalogue.
	{"GET", "/v1/products", nil, "YYYYNY"},
	{"GET", "/v1/products/{p}", nil, "YYYYNY"},
	// Version 2: placing the setup's order took stock.
	{"PATCH", "/v1/products/{p}", func(ids) any { return map[string]any{"version": 2, "price": 99} }, "NNYNNN"},
	{"DELETE", "/v1/products/{p}", nil, "NNYNNN"},
	{"POST", "/v1/orders", func(i ids) any {
		return map[string]any{"customer_id": i.customer, "currency": "EUR", "lines": []any{map[string]any{"sku": i.sku, "quantity": 1}}}
	}, "NNYYNN"},
	{"GET", "/v1/orders/{o}", nil, "YNYYNN"},
	{"POST", "/v1/orders/{o}/status", func(ids) any { return map[string]any{"version": 1, "status": "paid"} }, "NNYYNN"},
	{"POST", "/v1/principals", func(ids) any {
		return map[string]any{"name": strings.ToLower("p-" + sku()), "kind": "service", "roles": []string{"developer"}}
	}, "NNNNNY"},
	{"GET", "/v1/principals", nil, "NNNNNY"},
	{"POST", "/v1/principals/{prn}/keys", func(ids) any { return map[string]any{"key_ttl_days": 1} }, "NNNNNY"},
	{"POST", "/v1/principals/{prn}/disable", nil, "NNNNNY"},
	{"DELETE", "/v1/keys/{key}", nil, "NNNNNY"},
	{"DELETE", "/v1/principals/{prn}/sessions", nil, "NNNNNY"},
	{"POST", "/v1/principals/{prn}/certificates", func(ids) any { return map[string]any{} }, "NNNNNY"},
	{"POST", "/v1/payments/tokenize", func(ids) any {
		return map[string]any{"pan": "4111111111111111", "exp_month": 12, "exp_year": 2040}
	}, "NNNYNN"},
	// Detokenizing needs mTLS, which no cell here presents.
	{"POST", "/v1/payments/detokenize", func(i ids) any { return map[string]any{"token": i.token, "purpose": "capture"} }, "NNNNNN"},
	// Deleting a token returns nothing of its card, so needs no mTLS; a
	// dba needs MFA for it.
	{"DELETE", "/v1/payments/tokens/{tok}", nil, "NNNYNN"},
	{"GET", "/v1/transactions/{o}", nil, "NNNNNN"},
	// Security reads the trail, but not from the application network,
	// which here holds every caller.
	{"GET", "/v1/audit", nil, "NNNNNN"},
	{"GET", "/v1/backups/status", nil, "NNYNNN"},
	{"POST", "/v1/backups/restore-record", func(i ids) any {
		return map[string]any{"record": "customers/" + i.customer, "as_of": "2026-01-02T03:04:05Z"}
	}, "NNYNNN"},
	{"GET", "/v1/logs", nil, "YYNNNN"},
	{"GET", "/metrics", nil, "YNNNNN"},
	// Policies: security reads and checks them; changing them needs a
	// person's MFA, which no cell has, or an admin service.
	{"GET", "/v1/policies", nil, "NYNNNY"},
	{"GET", "/v1/policies/0", nil, "NYNNNY"},
	{"POST", "/v1/policies/check", func(ids) any { return map[string]any{"source": defaultSource} }, "NYNNNY"},
	{"GET", "/v1/access/analysis", nil, "NYNNNY"},
	{"POST", "/v1/policies", func(ids) any { return map[string]any{"source": defaultSource} }, "NNNNNY"},
	{"POST", "/v1/policies/0/rollback", nil, "NNNNNY"},
	// Keys: security reads their metadata; changing them is the admin's,
	// a person's only with MFA. The admin's rotation of the backup domain
	// retires its version 1, which holds no data keys, for the destroy
	// cell.
	{"GET", "/v1/keys", nil, "NYNNNY"},
	{"POST", "/v1/keys/backup/rotate", nil, "NNNNNY"},
	{"POST", "/v1/keys/rewrap", func(ids) any { return map[string]any{"domain": "customer-pii"} }, "NNNNNY"},
	{"POST", "/v1/keys/backup/versions/1/destroy", nil, "NNNNNY"},
}

// defaultSource is the default policy set, which the policy cells apply
// again so that every other cell keeps the default answers.
var defaultSource = string(policy.DefaultPolicies())

// seededPII are values of the matrix's customers and cards that must reach
// no log line.
var seededPII = []string{"Matrix Person", "@example.com", "+1 555 0100", "+1 555 0199",
	"4111111111111111", "5555555555554444"}

// fakeBackups answers the backup operations without object storage.
type fakeBackups struct{}

func (fakeBackups) Status(context.Context) (backup.Report, error) { return backup.Report{}, nil }

func (fakeBackups) RestoreRecord(_ context.Context, table, id string, asOf time.Time) (backup.RecordResult, error) {
	return backup.RecordResult{Table: table, ID: id, AsOf: asOf}, nil
}

// ids are the resources one cell works on, made fresh for it.
type ids struct {
	customer, email, product, sku, order, principal, key, token string
}

var seq int

func sku() string { seq++; return fmt.Sprintf("M-%d", seq) }

func newCustomerBody() map[string]any {
	seq++
	return map[string]any{"name": "Matrix Person", "email": fmt.Sprintf("m%d@example.com", seq), "phone": "+1 555 0100"}
}

// denied is what a refusal looks like: orders do not reveal that they
// exist; everything else answers 403.
func denied(path string) int {
	if strings.HasPrefix(path, "/v1/orders/") {
		return http.StatusNotFound
	}
	return http.StatusForbidden
}

// TestRoleMatrix calls every operation as every role over real HTTPS, on
// each engine, and compares each answer with the matrix.
func TestRoleMatrix(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := context.Background()
			var logs syncBuf
			ring := logging.NewRing(1000)
			log := slog.New(logging.NewHandler(&logs, ring, &slog.HandlerOptions{Level: slog.LevelDebug}))
			h, s, ks := openKeystore(t, eng, keys.Config{Logger: log})
			dir, err := identity.Open(ctx, h.DB)
			if err != nil {
				t.Fatal(err)
			}
			pv, err := versions.Open(ctx, h.DB)
			if err != nil {
				t.Fatal(err)
			}
			ca, err := tlsca.OpenCA(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			loop := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
			api := server.New(server.Deps{Store: s, Policy: pv.Live(), Policies: pv, Identity: principals, Directory: dir,
				CA: ca, Payments: payments.New(s), Logger: log, Logs: ring, Metrics: metrics.New(), Backups: fakeBackups{},
				Keys:     ks,
				Networks: map[string][]netip.Prefix{policy.NetworkApplication: loop, policy.NetworkPayment: loop}})
			certs, err := tlsca.NewServerCerts(ctx, ca, tlsca.ServerOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { certs.Close() })
			srv := httptest.NewUnstartedServer(api)
			srv.TLS = tlsca.ServerConfig(certs.GetCertificate, ca.Pool())
			srv.StartTLS()
			t.Cleanup(srv.Close)
			pool := x509.NewCertPool()
			pool.AddCert(ca.Certificate())
			hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
			url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)

			cells := 0
			for _, row := range matrix {
				for i, role := range matrixRoles {
					in := setup(t, s, dir)
					path := strings.NewReplacer("{c}", in.customer, "{p}", in.product, "{o}", in.order,
						"{prn}", in.principal, "{key}", in.key, "{tok}", in.token).Replace(row.path)
					var body []byte
					if row.body != nil {
						body, _ = json.Marshal(row.body(in))
					}
					req, _ := http.NewRequest(row.method, url+path, bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+role)
					if body != nil {
						req.Header.Set("Content-Type", "application/json")
					}
					resp, err := hc.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					allowed := resp.StatusCode >= 200 && resp.StatusCode < 300
					if want := row.want[i] == 'Y'; allowed != want || (!want && resp.StatusCode != denied(row.path)) {
						t.Errorf("%s %s as %s: %d, matrix says %c", row.method, row.path, role, resp.StatusCode, row.want[i])
					}
					if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
						t.Fatal("not served over TLS 1.2+")
					}
					cells++
				}
			}
			if cells != len(matrix)*len(matrixRoles) {
				t.Fatalf("%d cells", cells)
			}
			// The suite's log lines, written and served, hold none of
			// the PII and card numbers it sent.
			if !strings.Contains(logs.String(), "denied") {
				t.Fatalf("no refusals logged to check:\n%.2000s", logs.String())
			}
			served, _ := json.Marshal(ring.Lines(1000))
			for _, v := range seededPII {
				if strings.Contains(logs.String(), v) || strings.Contains(string(served), v) {
					t.Errorf("%q reached the log", v)
				}
			}
		})
	}
}

// setup makes the resources one cell needs.
func setup(t *testing.T, s *store.Store, dir *identity.Directory) ids {
	t.Helper()
	ctx := context.Background()
	var in ids
	nc := newCustomerBody()
	c, err := s.CreateCustomer(ctx, store.NewCustomer{Name: "Matrix Person", Email: nc["email"].(string)})
	if err != nil {
		t.Fatal(err)
	}
	in.customer, in.email, in.sku = c.ID, c.Email, sku()
	p, err := s.CreateProduct(ctx, store.NewProduct{SKU: in.sku, Name: "P", Currency: "EUR", Stock: 10})
	if err != nil {
		t.Fatal(err)
	}
	in.product = p.ID
	o, err := s.CreateOrder(ctx, store.NewOrder{CustomerID: c.ID, Currency: "EUR",
		Lines: []store.NewOrderLine{{SKU: in.sku, Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	in.order = o.ID
	prn, err := dir.CreatePrincipal(ctx, strings.ToLower("m-"+sku()), identity.KindService, []identity.Role{"developer"})
	if err != nil {
		t.Fatal(err)
	}
	_, info, err := dir.CreateKey(ctx, prn.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	in.principal, in.key = prn.ID, info.ID
	tok, err := payments.New(s).Tokenize(ctx, "prn_app", payments.Card{PAN: "5555555555554444", ExpMonth: 1, ExpYear: 2040},
		payments.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in.token = tok.Token
	return in
}
