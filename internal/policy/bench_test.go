package policy_test

import (
	"testing"

	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/policy/policygen"
)

func benchEngine(b *testing.B, src []byte) *policy.Engine {
	b.Helper()
	e, err := policy.New(src)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// runDecide gives every benchmark the same valid random requests over the
// generated universe.
func runDecide(b *testing.B, decide func(policy.Request) policy.Decision) {
	rs := policygen.New(7).Requests(1024)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		decide(rs[i%len(rs)])
		i++
	}
}

func BenchmarkDecideDefault(b *testing.B) {
	runDecide(b, benchEngine(b, policy.DefaultPolicies()).Decide)
}

func BenchmarkDecide1000Indexed(b *testing.B) {
	runDecide(b, benchEngine(b, policygen.New(1).Text(1000)).Decide)
}

func BenchmarkDecide1000Unindexed(b *testing.B) {
	runDecide(b, benchEngine(b, policygen.New(1).Text(1000)).DecideUnindexed)
}

// BenchmarkDecide1000IndexedOpaque draws a fifth of the conditions from
// expressions the index leaves to Cedar.
func BenchmarkDecide1000IndexedOpaque(b *testing.B) {
	g := policygen.New(1)
	g.Opaque = 0.2
	runDecide(b, benchEngine(b, g.Text(1000)).Decide)
}
