package bench

import (
	"context"
	"testing"

	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/policy/policygen"
)

// Every benchmark decides the same requests in turn; ns/op is the time of
// one decision, translation of the request included.
func runRequests(b *testing.B, decide func(policy.Request)) {
	rs := policygen.New(requestSeed).Requests(1024)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		decide(rs[i%len(rs)])
		i++
	}
}

func BenchmarkAuthzDefaultIndexed(b *testing.B) {
	e, err := policy.Default()
	if err != nil {
		b.Fatal(err)
	}
	runRequests(b, func(r policy.Request) { e.Decide(r) })
}

func BenchmarkAuthz1000Indexed(b *testing.B) {
	e := newEngines(b)
	runRequests(b, func(r policy.Request) { e.indexed.Decide(r) })
}

func BenchmarkAuthz1000CedarGo(b *testing.B) {
	e := newEngines(b)
	runRequests(b, func(r policy.Request) { e.cedar.Decide(r) })
}

func BenchmarkAuthz1000OPA(b *testing.B) {
	e := newEngines(b)
	ctx := context.Background()
	runRequests(b, func(r policy.Request) {
		if _, err := e.opa.Decide(ctx, r); err != nil {
			b.Fatal(err)
		}
	})
}
