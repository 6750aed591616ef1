package bench

import (
	"context"
	"testing"

	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/policy/policygen"
)

// The generated set every engine is measured on, and the seed of the
// requests put to it.
const (
	setSeed     = 1
	setSize     = 1000
	requestSeed = 7
)

// engines holds the engines under comparison, all on the same generated
// policies.
type engines struct {
	indexed *policy.Engine
	cedar   *CedarSet
	opa     *OPA
	rego    string
}

func newEngines(tb testing.TB) *engines {
	tb.Helper()
	ps := policygen.New(setSeed).Policies(setSize)
	src := policygen.Cedar(ps)

	indexed, err := policy.New(src)
	if err != nil {
		tb.Fatal(err)
	}
	cs, err := NewCedarSet(src)
	if err != nil {
		tb.Fatal(err)
	}
	module, err := Rego(ps)
	if err != nil {
		tb.Fatal(err)
	}
	opa, err := NewOPA(context.Background(), module)
	if err != nil {
		tb.Fatal(err)
	}
	return &engines{indexed: indexed, cedar: cs, opa: opa, rego: module}
}

// TestSameDecisions checks that the engines the benchmarks compare reach
// the same decisions on generated requests: allow or deny, determining
// policies and failed policies.
func TestSameDecisions(t *testing.T) {
	n := 4000
	if testing.Short() {
		n = 500
	}
	e := newEngines(t)
	ctx := context.Background()

	var allowed, denied, failed, determined int
	for i, r := range policygen.New(requestSeed).Requests(n) {
		want := EngineOutcome(e.indexed, r)
		if got := e.cedar.Outcome(r); !got.Equal(want) {
			t.Fatalf("request %d %+v:\n cedar-go %+v\n  indexed %+v", i, r, got, want)
		}
		got, err := e.opa.Decide(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(want) {
			t.Fatalf("request %d %+v:\n     opa %+v\n indexed %+v", i, r, got, want)
		}

		if want.Allow {
			allowed++
		} else {
			denied++
		}
		if len(want.Failed) > 0 {
			failed++
		}
		if len(want.Policies) > 0 {
			determined++
		}
	}

	t.Logf("%d requests: %d allowed, %d denied, %d with failed policies, %d with determining policies",
		n, allowed, denied, failed, determined)
	if allowed < n/10 || denied < n/10 || failed == 0 {
		t.Errorf("the requests do not exercise every outcome: %d allowed, %d denied, %d failed",
			allowed, denied, failed)
	}
}

// TestDefaultSetSameDecisions compares the SecureCart engine with
// cedar-go on the default policies.
func TestDefaultSetSameDecisions(t *testing.T) {
	e, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := NewCedarSet(policy.DefaultPolicies())
	if err != nil {
		t.Fatal(err)
	}
	allowed := 0
	for i, r := range policygen.New(requestSeed).Requests(2000) {
		want := EngineOutcome(e, r)
		if got := cs.Outcome(r); !got.Equal(want) {
			t.Fatalf("request %d %+v:\n cedar-go %+v\n  indexed %+v", i, r, got, want)
		}
		if want.Allow {
			allowed++
		}
	}
	if allowed == 0 {
		t.Error("no request allowed by the default policies")
	}
}

// TestRegoRejectsOpaque checks that a condition with no Rego translation
// is an error rather than a policy that silently never matches.
func TestRegoRejectsOpaque(t *testing.T) {
	p := policygen.Policy{ID: "x", Condition: policygen.Opaque[0]}
	if _, err := Rego([]policygen.Policy{p}); err == nil {
		t.Errorf("policy with condition %s translated", p.Condition)
	}
}
