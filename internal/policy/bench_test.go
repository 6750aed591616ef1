package policy

import "testing"

// benchRequests are the same for every benchmark: valid random requests
// over the generated universe.
func benchRequests(n int) []Request {
	g := newGen(7)
	rs := make([]Request, n)
	for i := range rs {
		rs[i] = g.request()
	}
	return rs
}

func benchEngine(b *testing.B, src []byte) *Engine {
	b.Helper()
	e, err := New(src)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func runDecide(b *testing.B, decide func(Request) Decision) {
	rs := benchRequests(1024)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		decide(rs[i%len(rs)])
		i++
	}
}

func BenchmarkDecideDefault(b *testing.B) {
	runDecide(b, benchEngine(b, defaultPolicies).Decide)
}

func BenchmarkDecide1000Indexed(b *testing.B) {
	runDecide(b, benchEngine(b, newGen(1).policies(1000)).Decide)
}

func BenchmarkDecide1000Unindexed(b *testing.B) {
	runDecide(b, benchEngine(b, newGen(1).policies(1000)).decideUnindexed)
}

// BenchmarkDecide1000IndexedOpaque draws a fifth of the conditions from
// expressions the index leaves to Cedar.
func BenchmarkDecide1000IndexedOpaque(b *testing.B) {
	g := newGen(1)
	g.opaque = 0.2
	runDecide(b, benchEngine(b, g.policies(1000)).Decide)
}
