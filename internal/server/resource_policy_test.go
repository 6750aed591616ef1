package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"testing"

	"github.com/securecart/securecart/internal/logging"
	"github.com/securecart/securecart/internal/policy/versions"
	"github.com/securecart/securecart/internal/server"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

// TestResourcePoliciesLimitNetworks applies a set whose resource policies
// keep the logs and the audit trail to an operators' network, and reads the
// logs as the security role, which an identity policy permits: refused from
// outside that network (the resource policy's forbid wins), served from
// inside it.
func TestResourcePoliciesLimitNetworks(t *testing.T) {
	src, err := os.ReadFile("../policy/analyze/testdata/operations-network.cedar")
	if err != nil {
		t.Fatal(err)
	}
	pv, err := versions.Open(context.Background(), sqldbtest.Engines()[0].Open(t))
	if err != nil {
		t.Fatal(err)
	}
	serve := func(operations string) *fixture {
		api := server.New(server.Deps{Policy: pv.Live(), Policies: pv, Identity: principals,
			Logs:     logging.NewRing(10),
			Networks: map[string][]netip.Prefix{"operations": {netip.MustParsePrefix(operations)}}})
		srv := httptest.NewServer(api)
		t.Cleanup(srv.Close)
		return &fixture{t: t, srv: srv}
	}
	outside, inside := serve("10.20.0.0/16"), serve("127.0.0.0/8")

	if code, _ := outside.do("sec", "GET", "/v1/logs", nil); code != http.StatusOK {
		t.Fatalf("security reads logs under the default set: %d", code)
	}
	if code, body := outside.do("admin", "POST", "/v1/policies", map[string]any{"source": string(src)}); code != http.StatusCreated {
		t.Fatalf("apply: %d %v", code, body)
	}
	if code, _ := outside.do("sec", "GET", "/v1/logs", nil); code != http.StatusForbidden {
		t.Fatalf("security reads logs from outside the operators' network: %d", code)
	}
	if code, _ := inside.do("sec", "GET", "/v1/logs", nil); code != http.StatusOK {
		t.Fatalf("security reads logs from the operators' network: %d", code)
	}
	if code, _ := inside.do("dev", "GET", "/v1/logs", nil); code != http.StatusForbidden {
		t.Fatalf("the set grants the developer no logs, inside or not: %d", code)
	}

	// The analyzer sees the resource policies and the network.
	code, body := inside.do("admin", "GET", "/v1/access/analysis", nil)
	if got := body["resource_policies"]; code != http.StatusOK ||
		!equalJSON(got, []string{"audit-operations-only", "logs-operations-only"}) {
		t.Fatalf("analysis: %d, resource policies %v", code, got)
	}
}
