package cases

import (
	"os"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/policy"
)

func TestDefaultCasesPass(t *testing.T) {
	data, err := os.ReadFile("testdata/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	e, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range Run(e, f) {
		if r.Problem != "" {
			t.Errorf("case %d (%s): %s", i+1, r.Case.Name, r.Problem)
		}
	}
}

func TestMismatchesReported(t *testing.T) {
	f, err := Parse([]byte(`
cases:
  - name: wrong decision
    principal: {id: p, kind: person, roles: [developer]}
    action: readPII
    resource: {type: Customer, id: c-1, owner: c-1}
    expect: allow
  - name: right decision, wrong policies
    principal: {id: p, kind: person, roles: [dba]}
    action: readPII
    resource: {type: Customer, id: c-1, owner: c-1}
    context: {mfa: true}
    expect: allow
    policies: [dba-rows]
  - name: bad source
    principal: {id: p, kind: person, roles: [dba]}
    action: readCustomer
    resource: {type: Customer, id: c-1, owner: c-1}
    context: {source: not-an-address}
    expect: allow
  - name: refused request
    principal: {id: p, kind: person, roles: [dba]}
    action: readCustomer
    resource: {type: Order, id: o-1}
    expect: allow
`))
	if err != nil {
		t.Fatal(err)
	}
	e, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"got deny", "want by [dba-rows]", "context.source", "errors"}
	for i, r := range Run(e, f) {
		if !strings.Contains(r.Problem, want[i]) {
			t.Errorf("case %d: problem %q, want it to mention %q", i+1, r.Problem, want[i])
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for name, src := range map[string]string{
		"unknown field": "cases:\n  - name: x\n    expect: allow\n    principle: {id: p}\n",
		"bad expect":    "cases:\n  - name: x\n    expect: maybe\n",
		"no cases":      "cases: []\n",
		"not yaml":      "cases: [\n",
		"too large":     "cases:\n" + strings.Repeat("#", MaxBytes),
	} {
		if _, err := Parse([]byte(src)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzParse feeds Parse arbitrary YAML: it must never panic, and every
// case it accepts has an expectation Run understands.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("testdata/default.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("cases:\n  - {name: a, expect: deny, principal: {id: p, kind: person}}\n"))
	f.Add([]byte("cases: [{expect: allow, context: {time: 2026-01-01T00:00:00Z, source: '::1'}}]\n"))
	e, err := policy.Default()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cf, err := Parse(data)
		if err != nil {
			return
		}
		for i, r := range Run(e, cf) {
			if r.Case.Expect != "allow" && r.Case.Expect != "deny" {
				t.Fatalf("case %d accepted with expect %q", i, r.Case.Expect)
			}
		}
	})
}
