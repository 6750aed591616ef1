package bench

import (
	"slices"
	"strings"

	"github.com/securecart/securecart/internal/policy"
)

// Outcome is a decision in the terms every engine can give: allow or deny,
// the determining policies (the matching forbids of a denial, the
// matching permits of an allowance) and the policies whose evaluation
// failed, each list sorted.
type Outcome struct {
	Allow    bool
	Policies []string
	Failed   []string
}

func (o Outcome) sorted() Outcome {
	slices.Sort(o.Policies)
	slices.Sort(o.Failed)
	return o
}

// Equal reports whether o and p are the same decision.
func (o Outcome) Equal(p Outcome) bool {
	return o.Allow == p.Allow && slices.Equal(o.Policies, p.Policies) &&
		slices.Equal(o.Failed, p.Failed)
}

// EngineOutcome is the SecureCart engine's decision on r as an Outcome.
// The engine reports a failed policy as "policy ID: message".
func EngineOutcome(e *policy.Engine, r policy.Request) Outcome {
	d := e.Decide(r)
	o := Outcome{Allow: d.Allow, Policies: d.Policies}
	for _, msg := range d.Errors {
		id, _, _ := strings.Cut(strings.TrimPrefix(msg, "policy "), ":")
		o.Failed = append(o.Failed, id)
	}
	return o.sorted()
}
