package server

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/policy"
)

// TestOpenAPIMatchesHandlers checks the served document against the route
// table both ways, and that each operation names a real policy action.
func TestOpenAPIMatchesHandlers(t *testing.T) {
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	actions := map[string]bool{}
	for _, a := range policy.Actions() {
		actions[a] = true
	}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
			// "none" marks sign-in and sign-out, which act on the caller's
			// own session and need no policy decision.
			if a, _ := op["x-securecart-action"].(string); !actions[a] && a != "none" {
				t.Errorf("%s %s names unknown action %q", method, path, a)
			}
			if _, ok := op["responses"].(map[string]any)["401"]; !ok {
				t.Errorf("%s %s documents no 401", method, path)
			}
		}
	}
	served := map[string]bool{}
	for _, r := range (&API{}).table() {
		served[r.method+" "+r.path] = true
	}
	var missing, extra []string
	for k := range served {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !served[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("undocumented operations %v; documented but not served %v", missing, extra)
	}
}
