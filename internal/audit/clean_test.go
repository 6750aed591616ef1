package audit

import (
	"fmt"
	"strings"
	"testing"
)

// The clean cache only ever saves work: a value with something sensitive
// in it is redacted however often it comes, and values seen clean before
// are still encoded as they are.
func TestCleanCache(t *testing.T) {
	const pan = "4111 1111 1111 1111"
	for round := range 3 {
		r := sampleRecord(0)
		r.Source.UserAgent = "shop/1.0 card " + pan
		r.Principal.ID = "prn_" + pan
		red, scanned := r.redact()
		if scanned {
			t.Fatalf("round %d: a record with a card number passed as clean", round)
		}
		if strings.Contains(red.Source.UserAgent, pan) || strings.Contains(red.Principal.ID, pan) {
			t.Fatalf("round %d: card number kept: %q, %q", round, red.Source.UserAgent, red.Principal.ID)
		}
		if clean.has(text, r.Source.UserAgent) || clean.has(name, r.Principal.ID) {
			t.Fatalf("round %d: a sensitive string is in the clean cache", round)
		}
	}

	r := sampleRecord(1)
	for range 2 {
		red, scanned := r.redact()
		if !scanned || red.Source.UserAgent != r.Source.UserAgent || red.Action != r.Action {
			t.Fatal("a clean record was changed")
		}
	}
	if !clean.has(text, r.Source.UserAgent) || !clean.has(name, r.Action) || !clean.has(name, r.Decision.Policies[0]) {
		t.Fatal("repeating clean strings not remembered")
	}
	if clean.has(name, r.RequestID) || clean.has(name, r.Resource.ID) {
		t.Fatal("unique strings remembered")
	}

	// A list entry is scanned when the cache does not know it.
	r = sampleRecord(2)
	r.Decision.Policies = []string{"ada.lovelace@example.com"}
	if _, scanned := r.redact(); scanned {
		t.Fatal("an email address as a policy id passed as clean")
	}

	// Full, it starts again, and stays bounded.
	for i := range cleanCacheSize + 10 {
		clean.add(name, fmt.Sprintf("prn_%d", i))
	}
	clean.mu.RLock()
	n := len(clean.kinds[name])
	clean.mu.RUnlock()
	if n > cleanCacheSize {
		t.Fatalf("%d strings cached, bound %d", n, cleanCacheSize)
	}
}
