package analyze

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/policy"
)

func load(t testing.TB, path string) *policy.Set {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := policy.Load(src)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

func defaultSet(t testing.TB) *policy.Set {
	t.Helper()
	s, err := policy.Load(policy.DefaultPolicies())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func rules(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		if !slices.Contains(out, f.Rule) {
			out = append(out, f.Rule)
		}
	}
	return out
}

// TestDefaultSetPassesEveryGuardrail is the shipped set's check.
func TestDefaultSetPassesEveryGuardrail(t *testing.T) {
	r, err := Analyze(defaultSet(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		t.Errorf("%s: %s (policies %v, cells %v)", f.Rule, f.Detail, f.Policies, f.Cells)
	}
	if !slices.Contains(r.Resource, "vault-mtls-only") || !slices.Contains(r.Resource, "audit-not-from-service-networks") {
		t.Errorf("resource policies %v", r.Resource)
	}
	if len(r.Identity)+len(r.Resource) != len(defaultSet(t).Policies) {
		t.Errorf("%d identity and %d resource policies", len(r.Identity), len(r.Resource))
	}
}

// TestGuardrailFiles runs every guardrail on its two testdata files: one
// must trip it, the other must not.
func TestGuardrailFiles(t *testing.T) {
	for _, rule := range Rules {
		t.Run(rule, func(t *testing.T) {
			for _, tc := range []struct {
				file string
				trip bool
			}{{rule + ".trips.cedar", true}, {rule + ".passes.cedar", false}} {
				r, err := Analyze(load(t, filepath.Join("testdata", "guardrails", tc.file)))
				if err != nil {
					t.Fatal(err)
				}
				got := slices.Contains(rules(r.Findings), rule)
				if got != tc.trip {
					t.Errorf("%s: tripped %v, want %v (findings %v)", tc.file, got, tc.trip, rules(r.Findings))
				}
			}
		})
	}
}

func TestOnlyNoAdminPathBlocks(t *testing.T) {
	r, err := Analyze(load(t, "testdata/guardrails/no-admin-path.trips.cedar"))
	if err != nil {
		t.Fatal(err)
	}
	b := r.Blocking()
	if len(b) != 1 || b[0].Rule != RuleNoAdminPath {
		t.Fatalf("blocking %v", b)
	}
	for _, f := range r.Findings {
		if f.Blocking != (f.Rule == RuleNoAdminPath) {
			t.Errorf("%s blocking %v", f.Rule, f.Blocking)
		}
	}
}

func TestFindingNamesPoliciesAndCells(t *testing.T) {
	r, err := Analyze(load(t, "testdata/guardrails/pii-without-mfa.trips.cedar"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		if f.Rule != RulePIIWithoutMFA {
			continue
		}
		if !slices.Equal(f.Policies, []string{"dba-pii"}) || len(f.Cells) == 0 {
			t.Fatalf("finding %+v", f)
		}
		for _, c := range f.Cells {
			if c.Role != policy.RoleDBA || c.Kind != policy.KindPerson || c.Variant.MFA {
				t.Errorf("cell %s", c)
			}
		}
		return
	}
	t.Fatal("no pii-without-mfa finding")
}

func TestCheckNoNewAccess(t *testing.T) {
	base := load(t, "testdata/base.cedar")

	d, err := Compare(base, load(t, "testdata/widened.cedar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Added) == 0 || len(d.Removed) != 0 {
		t.Fatalf("widened: %d added, %d removed", len(d.Added), len(d.Removed))
	}
	for _, c := range d.Added {
		if c.Role != policy.RoleDBA || c.Action != policy.ReadPII || c.Variant.MFA ||
			!slices.Contains(c.Variant.Networks, policy.NetworkApplication) {
			t.Errorf("unexpected new access %s", c)
		}
	}

	d, err = Compare(base, load(t, "testdata/rewrite.cedar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Added) != 0 || len(d.Removed) != 0 {
		t.Fatalf("rewrite: added %v, removed %v", d.Added, d.Removed)
	}
	added, removed, changed := PolicyChanges(base, load(t, "testdata/rewrite.cedar"))
	if len(added) != 3 || len(removed) != 2 || !slices.Equal(changed, []string{"app-service"}) {
		t.Errorf("policy changes +%v -%v ~%v", added, removed, changed)
	}
}

// TestMatrixAgreesWithEngine spot-checks cells against direct decisions.
func TestMatrixAgreesWithEngine(t *testing.T) {
	s := defaultSet(t)
	m, err := Build(s, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Variants) != 16 {
		t.Fatalf("%d variants for networks %v", len(m.Variants), m.Networks)
	}
	cell := func(role, kind, action, res, owner string, v int) byte {
		for _, r := range m.Rows {
			if r.Role == role && r.Kind == kind && r.Action == action && r.Resource == res && r.Owner == owner {
				return r.Cells[v]
			}
		}
		t.Fatalf("no row %s %s %s %s %s", role, kind, action, res, owner)
		return 0
	}
	variant := func(mfa, mtls bool, nets ...string) int {
		for i, v := range m.Variants {
			if v.MFA == mfa && v.MTLS == mtls && slices.Equal(v.Networks, nets) {
				return i
			}
		}
		t.Fatalf("no variant %v %v %v", mfa, mtls, nets)
		return 0
	}
	tests := []struct {
		role, kind, action, res, owner string
		v                              int
		want                           byte
	}{
		{"dba", "person", "readPII", "Customer", "other", variant(true, false), 'Y'},
		{"dba", "person", "readPII", "Customer", "other", variant(false, false), '.'},
		{"dba", "service", "readPII", "Customer", "other", variant(true, false), '-'},
		{"payment-provider", "service", "detokenize", "Collection::payments", "", variant(false, true, "payment"), 'Y'},
		{"payment-provider", "service", "detokenize", "Collection::payments", "", variant(false, false, "payment"), '.'},
		{"security", "person", "readAudit", "Collection::audit", "", variant(false, false), 'Y'},
		{"security", "person", "readAudit", "Collection::audit", "", variant(false, false, "application"), '.'},
		{"", "customer", "readOrder", "Order", "own", variant(false, false), 'Y'},
		{"", "customer", "readOrder", "Order", "other", variant(false, false), '.'},
	}
	for _, tt := range tests {
		if got := cell(tt.role, tt.kind, tt.action, tt.res, tt.owner, tt.v); got != tt.want {
			t.Errorf("%s/%s %s %s[%s] in %s: %c, want %c", tt.role, tt.kind, tt.action, tt.res, tt.owner,
				m.Variants[tt.v], got, tt.want)
		}
	}
}

func TestResourcePolicyNetworksEnumerated(t *testing.T) {
	s := load(t, "testdata/operations-network.cedar")
	r, err := Analyze(s)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(r.Matrix.Networks, "operations") {
		t.Fatalf("networks %v", r.Matrix.Networks)
	}
	if !slices.Equal(r.Resource, []string{"audit-operations-only", "logs-operations-only"}) {
		t.Fatalf("resource policies %v", r.Resource)
	}
	var b strings.Builder
	if err := r.Matrix.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, row := range strings.Split(b.String(), "\n") {
		if strings.Contains(row, "readAudit") && !strings.HasPrefix(row, "security") {
			t.Errorf("row %q", row)
		}
	}
}

func TestTooManyNetworks(t *testing.T) {
	var src strings.Builder
	for i := range MaxNetworks {
		src.WriteString(`@id("p` + string(rune('a'+i)) + `") permit (principal in SecureCart::Role::"dba", ` +
			`action == SecureCart::Action::"readCustomer", resource) when { context.networks.contains("n` +
			string(rune('a'+i)) + `") };` + "\n")
	}
	s, err := policy.Load([]byte(src.String()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Analyze(s); err == nil {
		t.Fatal("no error for too many networks")
	}
}
