package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/server"
	"github.com/securecart/securecart/internal/store"
)

// shopper is a customer with one order.
type shopper struct {
	id, email, order string
}

func newShopper(t *testing.T, s *store.Store, email string) shopper {
	t.Helper()
	ctx := context.Background()
	c, err := s.CreateCustomer(ctx, store.NewCustomer{Name: "Shopper " + email, Email: email, Phone: "+1 555 0100"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateProduct(ctx, store.NewProduct{SKU: "SKU-" + c.ID, Name: "P", Currency: "EUR",
		Stock: 10}); err != nil {
		t.Fatal(err)
	}
	o, err := s.CreateOrder(ctx, store.NewOrder{CustomerID: c.ID, Currency: "EUR", Notes: "ring twice",
		Lines: []store.NewOrderLine{{SKU: "SKU-" + c.ID, Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	return shopper{id: c.ID, email: email, order: o.ID}
}

// raw sends a request and returns the status and the body as text.
func (f *fixture) raw(key, method, path string, body any) (int, string) {
	f.t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, sb.String()
}

func TestCustomerTokenOwnData(t *testing.T) {
	f, _ := newDirFixture(t, server.Limit{})
	a := newShopper(t, f.s, "a@example.com")

	if code, _ := f.do("dev", "POST", "/v1/customers/"+a.id+"/tokens", nil); code != 403 {
		t.Fatalf("developer got a customer token: %d", code)
	}
	if code, _ := f.do("app", "POST", "/v1/customers/cus_00000000000000000000000000/tokens", nil); code != 404 {
		t.Fatalf("token for a customer that does not exist: %d", code)
	}
	code, tok := f.do("app", "POST", "/v1/customers/"+a.id+"/tokens", nil)
	if code != 201 || !strings.HasPrefix(tok["token"].(string), "sct_") {
		t.Fatalf("issue: %d %v", code, tok)
	}
	ta := tok["token"].(string)

	for _, op := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", "/v1/customers/" + a.id, nil, 200},
		{"PATCH", "/v1/customers/" + a.id, map[string]any{"version": 1, "phone": "+1 555 0101"}, 200},
		{"GET", "/v1/customers/" + a.id + "/export", nil, 200},
		{"GET", "/v1/customers/" + a.id + "/orders", nil, 200},
		{"GET", "/v1/orders/" + a.order, nil, 200},
		{"GET", "/v1/products", nil, 200},
		{"GET", "/v1/customers", nil, 404},
		{"POST", "/v1/customers/" + a.id + "/tokens", nil, 404},
		{"DELETE", "/v1/customers/" + a.id, nil, 204},
	} {
		code, body := f.raw(ta, op.method, op.path, op.body)
		if code != op.want {
			t.Errorf("%s %s with its own token: %d, want %d: %s", op.method, op.path, code, op.want, body)
		}
	}
	if code, _ := f.do("app", "GET", "/v1/customers/"+a.id, nil); code != 404 {
		t.Fatalf("after erasure: %d", code)
	}
}

// TestCustomerTokenIsolation sends customer A's token to every operation
// of the route table, aimed at customer B's resources: nothing succeeds,
// and every answer is 404, so B's ids cannot even be confirmed.
func TestCustomerTokenIsolation(t *testing.T) {
	f, _ := newDirFixture(t, server.Limit{})
	a := newShopper(t, f.s, "a@example.com")
	b := newShopper(t, f.s, "b@example.com")
	_, tok := f.do("app", "POST", "/v1/customers/"+a.id+"/tokens", nil)
	ta := tok["token"].(string)

	// Operations that involve no customer's data: the public catalogue
	// listing, and sign-in, which takes no token.
	skip := map[string]string{
		"GET /v1/products":  "the public catalogue",
		"POST /v1/sessions": "sign-in is not called with a token",
	}
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	bodies := func(method, path string) any {
		switch {
		case method == "PATCH" && strings.HasPrefix(path, "/v1/customers/"):
			return map[string]any{"version": 1, "name": "Mallory"}
		case method == "POST" && path == "/v1/orders":
			return map[string]any{"customer_id": b.id, "currency": "EUR",
				"lines": []any{map[string]any{"sku": "SKU-" + b.id, "quantity": 1}}}
		case method == "POST" && path == "/v1/customers/lookup":
			return map[string]any{"email": b.email}
		case method == "POST" && path == "/v1/customers":
			return map[string]any{"name": "Mallory", "email": "m@example.com"}
		case method == "POST" && path == "/v1/orders/{id}/status":
			return map[string]any{"version": 1, "status": "cancelled"}
		case method == "POST" || method == "PATCH" || method == "PUT":
			return map[string]any{}
		}
		return nil
	}
	calls := 0
	for _, rt := range server.RouteTable() {
		method, tmpl := rt[0], rt[1]
		if why, ok := skip[method+" "+tmpl]; ok {
			t.Logf("skipped %s %s: %s", method, tmpl, why)
			continue
		}
		target := b.id
		if strings.Contains(tmpl, "/orders/") || strings.Contains(tmpl, "/transactions/") {
			target = b.order
		}
		path := param.ReplaceAllString(tmpl, target)
		code, body := f.raw(ta, method, path, bodies(method, tmpl))
		calls++
		if code != 404 {
			t.Errorf("%s %s as customer A on B's resource: %d, want 404: %s", method, tmpl, code, body)
		}
		if strings.Contains(body, b.email) || strings.Contains(body, "Shopper b@") {
			t.Errorf("%s %s leaked B's data", method, tmpl)
		}
	}
	if calls < 20 {
		t.Fatalf("only %d operations tried", calls)
	}
	// B's data is untouched.
	if code, body := f.do("app", "GET", "/v1/customers/"+b.id, nil); code != 200 || body["email"] != b.email ||
		body["version"].(float64) != 1 {
		t.Fatalf("B after the attack: %d %v", code, body)
	}
}

func TestCustomerTokenRateLimit(t *testing.T) {
	f, _ := newDirFixtureLimits(t, server.Limit{}, nil)
	a := newShopper(t, f.s, "a@example.com")
	var tokens []string
	for range 2 {
		_, tok := f.do("app", "POST", "/v1/customers/"+a.id+"/tokens", nil)
		tokens = append(tokens, tok["token"].(string))
	}
	limited := 0
	for i := range server.DefaultCustomerLimit.Burst + 2 {
		if code, _ := f.raw(tokens[i%2], "GET", "/v1/customers/"+a.id, nil); code == 429 {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("a customer's tokens are not rate limited")
	}
}
