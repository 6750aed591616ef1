package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/server"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

// noDevPII is the default set with a forbid that reads the resource's
// classification attribute.
var noDevPII = string(policy.DefaultPolicies()) + `
@id("developer-not-pii-records")
forbid (principal in SecureCart::Role::"developer", action, resource)
when { resource has classification && resource.classification == "pii" };
`

// TestResourceCarriesClassification checks that requests carry a
// customer's classification, so that a policy on it takes effect, and no
// classification for other resources.
func TestResourceCarriesClassification(t *testing.T) {
	_, s, _ := openStore(t, sqldbtest.Engines()[0], keys.Config{})
	pe, err := policy.New([]byte(noDevPII))
	if err != nil {
		t.Fatal(err)
	}
	api := server.New(server.Deps{Store: s, Policy: pe, Identity: principals,
		Networks: map[string][]netip.Prefix{policy.NetworkApplication: {netip.MustParsePrefix("127.0.0.0/8")}}})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	f := &fixture{t: t, srv: srv, s: s}

	code, c := f.do("app", "POST", "/v1/customers", ada)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, c)
	}
	for _, path := range []string{"/v1/customers/" + c["id"].(string), "/v1/customers"} {
		if code, _ := f.do("dev", "GET", path, nil); code != http.StatusForbidden {
			t.Errorf("developer GET %s under a forbid on pii records: %d", path, code)
		}
	}
	if code, _ := f.do("dev", "GET", "/v1/products", nil); code != http.StatusOK {
		t.Errorf("developer lists products: %d", code)
	}
	if code, _ := f.do("app", "GET", "/v1/customers/"+c["id"].(string), nil); code != http.StatusOK {
		t.Errorf("the forbid reached the app-service: %d", code)
	}
}
