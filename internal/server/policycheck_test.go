package server_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

// TestPolicyCheck validates, diffs and tests a candidate set over the API
// as the security role, without MFA, and checks that nothing is applied.
func TestPolicyCheck(t *testing.T) {
	f := newPolicyFixture(t, sqldbtest.Engines()[0])
	defaultCases, err := os.ReadFile("../policy/cases/testdata/default.yaml")
	if err != nil {
		t.Fatal(err)
	}

	// The default set against itself: no change, every case passes.
	code, body := f.do("sec", "POST", "/v1/policies/check", map[string]any{
		"source": string(policy.DefaultPolicies()), "cases": string(defaultCases)})
	if code != http.StatusOK || body["against"].(float64) != 0 || body["blocking"] != false ||
		body["cases_failed"].(float64) != 0 || len(body["cases"].([]any)) < 10 {
		t.Fatalf("default set: %d %v", code, body)
	}
	if cells := body["cells"].(map[string]any); len(cells["newly_allowed"].([]any)) != 0 ||
		len(cells["newly_denied"].([]any)) != 0 {
		t.Fatalf("the default set differs from itself: %v", cells)
	}

	// Taking the developer's logs away: one policy added, cells newly
	// denied, and a case expecting the old answer fails.
	code, body = f.do("sec", "POST", "/v1/policies/check", map[string]any{"source": noDevLogs, "cases": `
cases:
  - name: developer reads logs
    principal: {id: p-dev, kind: person, roles: [developer]}
    action: readLogs
    resource: {type: Collection, id: logs}
    expect: allow
`})
	if code != http.StatusOK {
		t.Fatalf("narrowed set: %d %v", code, body)
	}
	changes := body["changes"].(map[string]any)
	if !equalJSON(changes["added"], []string{"no-developer-logs"}) || len(changes["removed"].([]any)) != 0 {
		t.Fatalf("policy changes %v", changes)
	}
	cells := body["cells"].(map[string]any)
	if len(cells["newly_allowed"].([]any)) != 0 || len(cells["newly_denied"].([]any)) == 0 {
		t.Fatalf("cells %v", cells)
	}
	outcome := body["cases"].([]any)[0].(map[string]any)
	if body["cases_failed"].(float64) != 1 || outcome["decision"] != "deny" ||
		!strings.Contains(outcome["problem"].(string), "want allow") {
		t.Fatalf("cases %v", body["cases"])
	}

	// A set that leaves no admin path is reported as blocking, not refused.
	code, body = f.do("sec", "POST", "/v1/policies/check", map[string]any{"source": `@id("a")
permit (principal in SecureCart::Role::"dba", action == SecureCart::Action::"readCustomer", resource);`})
	if code != http.StatusOK || body["blocking"] != true {
		t.Fatalf("no admin path: %d %v", code, body)
	}

	for _, tt := range []struct {
		name, key string
		body      map[string]any
		code      int
		problem   string
	}{
		{"developer", "dev", map[string]any{"source": noDevLogs}, 403, "forbidden"},
		{"does not validate", "sec", map[string]any{"source": "// a comment\n\n@id(\"a\") permit (principal, action, resource)" +
			" when { context.nope };"}, 422, "policy_invalid"},
		{"bad cases", "sec", map[string]any{"source": noDevLogs, "cases": "cases: [{expect: maybe}]"}, 400, "invalid_field"},
		{"no such version", "sec", map[string]any{"source": noDevLogs, "against": 9}, 404, "not_found"},
		{"unknown field", "sec", map[string]any{"source": noDevLogs, "apply": true}, 400, "malformed_body"},
	} {
		code, body := f.do(tt.key, "POST", "/v1/policies/check", tt.body)
		if code != tt.code || body["code"] != tt.problem {
			t.Errorf("%s: %d %v, want %d %s", tt.name, code, body, tt.code, tt.problem)
		}
		if tt.problem == "policy_invalid" && !strings.Contains(body["detail"].(string), "line 3, column 1") {
			t.Errorf("validation error without its position: %v", body["detail"])
		}
	}

	// Nothing was applied.
	code, body = f.do("sec", "GET", "/v1/policies", nil)
	if items := body["items"].([]any); code != http.StatusOK || len(items) != 1 {
		t.Fatalf("a check stored a version: %v", body)
	}
}
