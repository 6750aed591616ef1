package policy_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/policy/policygen"
)

// TestIndexMatchesCedar is the index's proof: on thousands of random
// requests, the indexed decision (allow or deny, determining policies and
// errors) equals Cedar's decision on the whole set.
func TestIndexMatchesCedar(t *testing.T) {
	requests := 5000
	if testing.Short() {
		requests = 500
	}

	type set struct {
		name string
		src  []byte
	}
	sets := []set{{"default", policy.DefaultPolicies()}}
	for seed := range uint64(5) {
		g := policygen.New(seed)
		if seed >= 3 {
			g.Opaque = 0.5
		}
		name := fmt.Sprintf("generated-%d-opaque-%.0f%%", seed, g.Opaque*100)
		sets = append(sets, set{name, g.Text(1000)})
	}

	for i, set := range sets {
		t.Run(set.name, func(t *testing.T) {
			e, err := policy.New(set.src)
			if err != nil {
				t.Fatal(err)
			}
			var allowed, errored, decided, undecided, mixed int
			g := policygen.New(uint64(100 + i))
			for range requests {
				r := g.Request()
				got, want := e.Decide(r), e.DecideUnindexed(r)
				if !policy.EqualDecisions(got, want) {
					t.Fatalf("request %+v:\n indexed %+v\n   cedar %+v", r, got, want)
				}
				if got.Allow {
					allowed++
				}
				if len(got.Errors) > 0 {
					errored++
				}
				d, u := e.Split(r)
				decided += d
				undecided += u
				if d > 0 && u > 0 {
					mixed++
				}
			}

			t.Logf("%d policies, %d requests: %d allowed, %d with errors, %d combining "+
				"index and Cedar; per request %.1f policies decided by the index, %.1f left to Cedar",
				e.Len(), requests, allowed, errored, mixed,
				float64(decided)/float64(requests), float64(undecided)/float64(requests))
			if allowed == 0 || allowed == requests {
				t.Errorf("%d of %d allowed: the generated requests do not exercise both answers",
					allowed, requests)
			}
			if set.name != "default" && (errored == 0 || mixed == 0) {
				t.Error("the generated conditions do not exercise errors and Cedar's share")
			}
		})
	}
}

// TestDecideConcurrent shares one engine between goroutines, on requests
// that go through Cedar as well as the index; run it with -race.
func TestDecideConcurrent(t *testing.T) {
	g := policygen.New(9)
	g.Opaque = 0.5
	e, err := policy.New(g.Text(300))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		rs := policygen.New(uint64(20 + w)).Requests(300)
		wg.Go(func() {
			for _, r := range rs {
				if got, want := e.Decide(r), e.DecideUnindexed(r); !policy.EqualDecisions(got, want) {
					t.Errorf("indexed %+v, cedar %+v", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
