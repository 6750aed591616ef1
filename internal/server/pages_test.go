package server_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/securecart/securecart/internal/server"
	"github.com/securecart/securecart/internal/store"
)

// TestListsPaginateAndExportIsOneDocument follows the cursors of the
// customer list and of one customer's orders to the end, checks the page
// arguments are validated, and reads a customer's GDPR export with its own
// token: one JSON document with its profile and every order, in clear.
func TestListsPaginateAndExportIsOneDocument(t *testing.T) {
	f, _ := newDirFixture(t, server.Limit{})
	ctx := context.Background()
	a := newShopper(t, f.s, "pages-a@example.com")
	want := map[string]bool{a.id: true}
	for i := range 6 {
		want[newShopper(t, f.s, fmt.Sprintf("pages-%d@example.com", i)).id] = true
	}
	for range 4 {
		if _, err := f.s.CreateOrder(ctx, store.NewOrder{CustomerID: a.id, Currency: "EUR", Notes: "leave at the door",
			Lines: []store.NewOrderLine{{SKU: "SKU-" + a.id, Quantity: 1}}}); err != nil {
			t.Fatal(err)
		}
	}

	// follow reads every page of path, limit items at a time, as the
	// developer, and returns the ids in the order served.
	follow := func(path string, limit int) []string {
		var ids []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatalf("%s: the cursor does not end", path)
			}
			q := fmt.Sprintf("%s?limit=%d", path, limit)
			if cursor != "" {
				q += "&cursor=" + cursor
			}
			code, body := f.do("dev", "GET", q, nil)
			if code != http.StatusOK {
				t.Fatalf("GET %s: %d %v", q, code, body)
			}
			items := body["items"].([]any)
			if len(items) > limit {
				t.Fatalf("GET %s: %d items", q, len(items))
			}
			for _, it := range items {
				m := it.(map[string]any)
				if m["masked"] != true {
					t.Fatalf("the developer got an unmasked item: %v", m)
				}
				ids = append(ids, m["id"].(string))
			}
			next, _ := body["next_cursor"].(string)
			if next == "" {
				return ids
			}
			cursor = next
		}
	}
	customers := follow("/v1/customers", 3)
	seen := map[string]bool{}
	for _, id := range customers {
		if seen[id] {
			t.Fatalf("customer %s listed twice", id)
		}
		seen[id] = true
	}
	for id := range want {
		if !seen[id] {
			t.Fatalf("customer %s never listed (got %v)", id, customers)
		}
	}
	if orders := follow("/v1/customers/"+a.id+"/orders", 2); len(orders) != 5 {
		t.Fatalf("%d orders of the customer listed, want 5", len(orders))
	}
	for _, q := range []string{"?limit=0", "?limit=1001", "?limit=x", "?cursor=" + fmt.Sprintf("%065d", 0)} {
		if code, body := f.do("dev", "GET", "/v1/customers"+q, nil); code != http.StatusBadRequest ||
			body["code"] != "invalid_field" {
			t.Errorf("GET /v1/customers%s: %d %v", q, code, body)
		}
	}

	_, tok := f.do("app", "POST", "/v1/customers/"+a.id+"/tokens", nil)
	code, doc := f.do(tok["token"].(string), "GET", "/v1/customers/"+a.id+"/export", nil)
	if code != http.StatusOK {
		t.Fatalf("export: %d %v", code, doc)
	}
	profile := doc["customer"].(map[string]any)
	if profile["id"] != a.id || profile["email"] != a.email || profile["masked"] != false {
		t.Fatalf("exported profile %v", profile)
	}
	orders := doc["orders"].([]any)
	if len(orders) != 5 {
		t.Fatalf("%d orders exported, want 5", len(orders))
	}
	for _, o := range orders {
		if m := o.(map[string]any); m["customer_id"] != a.id || m["notes"] == "" || m["notes"] == nil {
			t.Fatalf("exported order %v", m)
		}
	}
}
