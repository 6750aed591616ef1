package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/securecart/securecart/internal/logging"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/policy/versions"
	"github.com/securecart/securecart/internal/server"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

// noDevLogs is the default set with the developer's log lines taken away.
var noDevLogs = string(policy.DefaultPolicies()) + `
@id("no-developer-logs")
forbid (principal in SecureCart::Role::"developer", action == SecureCart::Action::"readLogs", resource);
`

func newPolicyFixture(t *testing.T, eng sqldbtest.Engine) *fixture {
	t.Helper()
	pv, err := versions.Open(context.Background(), eng.Open(t))
	if err != nil {
		t.Fatal(err)
	}
	api := server.New(server.Deps{Policy: pv.Live(), Policies: pv, Identity: principals,
		Logs: logging.NewRing(10)})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &fixture{t: t, srv: srv}
}

// analysis returns the matrix rows the API reports for the active set.
func (f *fixture) analysis() (float64, []any) {
	f.t.Helper()
	code, body := f.do("sec", "GET", "/v1/access/analysis", nil)
	if code != http.StatusOK {
		f.t.Fatalf("analysis: %d %v", code, body)
	}
	if fs := body["findings"].([]any); len(fs) != 0 {
		f.t.Fatalf("findings on the active set: %v", fs)
	}
	return body["version"].(float64), body["matrix"].(map[string]any)["rows"].([]any)
}

func TestPolicyApplyAnalyzeRollBack(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			f := newPolicyFixture(t, eng)
			v0, rows0 := f.analysis()
			if v0 != 0 {
				t.Fatalf("fresh deployment on version %v", v0)
			}
			if code, _ := f.do("dev", "GET", "/v1/logs", nil); code != http.StatusOK {
				t.Fatalf("developer logs before: %d", code)
			}

			code, body := f.do("admin", "POST", "/v1/policies", map[string]any{"source": noDevLogs, "note": "n"})
			if code != http.StatusCreated || body["version"].(float64) != 1 || body["active"] != true {
				t.Fatalf("apply: %d %v", code, body)
			}
			if code, _ := f.do("dev", "GET", "/v1/logs", nil); code != http.StatusForbidden {
				t.Fatalf("developer logs after apply: %d", code)
			}
			v1, rows1 := f.analysis()
			if v1 != 1 || equalJSON(rows0, rows1) {
				t.Fatalf("analysis after apply: version %v, matrix unchanged %v", v1, equalJSON(rows0, rows1))
			}

			code, body = f.do("admin", "POST", "/v1/policies/0/rollback", nil)
			if code != http.StatusCreated || body["version"].(float64) != 2 || body["rollback_of"].(float64) != 0 {
				t.Fatalf("rollback: %d %v", code, body)
			}
			if code, _ := f.do("dev", "GET", "/v1/logs", nil); code != http.StatusOK {
				t.Fatalf("developer logs after rollback: %d", code)
			}
			v2, rows2 := f.analysis()
			if v2 != 2 || len(rows2) != len(rows0) {
				t.Fatalf("after rollback: version %v, %d rows, want %d", v2, len(rows2), len(rows0))
			}
			for i := range rows0 {
				if !equalJSON(rows0[i], rows2[i]) {
					t.Fatalf("row %d after rollback %v, before %v", i, rows2[i], rows0[i])
				}
			}

			code, body = f.do("sec", "GET", "/v1/policies/1", nil)
			if code != http.StatusOK || body["source"] != noDevLogs || body["active"] != false {
				t.Fatalf("read version 1: %d", code)
			}
			code, body = f.do("sec", "GET", "/v1/policies", nil)
			if items := body["items"].([]any); code != http.StatusOK || len(items) != 3 ||
				items[0].(map[string]any)["active"] != true {
				t.Fatalf("list: %d %v", code, body)
			}
		})
	}
}

func TestPolicyRefusals(t *testing.T) {
	f := newPolicyFixture(t, sqldbtest.Engines()[0])
	tests := []struct {
		name, key, method, path string
		body                    any
		code                    int
		problem                 string
	}{
		{"developer reads policies", "dev", "GET", "/v1/policies", nil, 403, "forbidden"},
		{"developer runs the analyzer", "dev", "GET", "/v1/access/analysis", nil, 403, "forbidden"},
		{"security applies without MFA", "sec", "POST", "/v1/policies", map[string]any{"source": noDevLogs}, 403, "forbidden"},
		{"does not parse", "admin", "POST", "/v1/policies",
			map[string]any{"source": `@id("a") permit (principal, action, resource) when { context.mfa && };`}, 422, "policy_invalid"},
		{"does not validate", "admin", "POST", "/v1/policies",
			map[string]any{"source": `@id("a") permit (principal, action, resource) when { context.nope };`}, 422, "policy_invalid"},
		{"locks out admins", "admin", "POST", "/v1/policies",
			map[string]any{"source": `@id("a") permit (principal in SecureCart::Role::"dba", action == SecureCart::Action::"readCustomer", resource);`},
			422, "policy_refused"},
		{"unknown field", "admin", "POST", "/v1/policies", map[string]any{"text": "x"}, 400, "malformed_body"},
		{"no such version", "sec", "GET", "/v1/policies/7", nil, 404, "not_found"},
		{"not a version", "sec", "GET", "/v1/policies/x", nil, 404, "not_found"},
		{"roll back to no version", "admin", "POST", "/v1/policies/7/rollback", nil, 404, "not_found"},
	}
	for _, tt := range tests {
		code, body := f.do(tt.key, tt.method, tt.path, tt.body)
		if code != tt.code || body["code"] != tt.problem {
			t.Errorf("%s: %d %v, want %d %s", tt.name, code, body, tt.code, tt.problem)
		}
	}
	code, body := f.do("sec", "GET", "/v1/policies", nil)
	if items := body["items"].([]any); code != http.StatusOK || len(items) != 1 {
		t.Fatalf("refusals stored something: %v", body)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestPolicyChangesNeedMFA checks that people change policies only with
// MFA, even under a set that would let them without.
func TestPolicyChangesNeedMFA(t *testing.T) {
	keys := staticKeys{
		"admin": principals["admin"],
		"sec-mfa": {ID: "prn_sec_mfa", Kind: policy.KindPerson, Roles: []string{policy.RoleSecurity},
			MFA: true},
		"adm-person": {ID: "prn_adm_person", Kind: policy.KindPerson, Roles: []string{policy.RoleAdmin}},
	}
	pv, err := versions.Open(context.Background(), sqldbtest.OpenSQLite(t))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Deps{Policy: pv.Live(), Policies: pv, Identity: keys}))
	t.Cleanup(srv.Close)
	f := &fixture{t: t, srv: srv}

	code, body := f.do("sec-mfa", "POST", "/v1/policies", map[string]any{"source": noDevLogs})
	if code != http.StatusCreated || body["created_by"] != "prn_sec_mfa" {
		t.Fatalf("security with MFA: %d %v", code, body)
	}

	lax := string(policy.DefaultPolicies()) + `
@id("admins-without-mfa")
permit (principal in SecureCart::Role::"admin", action, resource == SecureCart::Collection::"policies");
`
	if code, body := f.do("admin", "POST", "/v1/policies", map[string]any{"source": lax}); code != http.StatusCreated {
		t.Fatalf("apply a set without the MFA condition: %d %v", code, body)
	}
	code, body = f.do("adm-person", "POST", "/v1/policies/0/rollback", nil)
	if code != http.StatusForbidden || body["detail"] == nil {
		t.Fatalf("admin person without MFA under a lax set: %d %v", code, body)
	}
	if code, _ := f.do("adm-person", "GET", "/v1/policies", nil); code != http.StatusOK {
		t.Fatalf("admin person reading policies under the lax set: %d", code)
	}
}
