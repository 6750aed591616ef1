package policy

// What the external tests (package policy_test, which draw policies and
// requests from policygen) need of the engine's insides.

// DecideUnindexed evaluates r against every policy, as plain Cedar would.
func (e *Engine) DecideUnindexed(r Request) Decision { return e.decideUnindexed(r) }

// Split counts the policies the index decides itself on r and those it
// leaves to Cedar.
func (e *Engine) Split(r Request) (decided, undecided int) {
	q, err := newQuery(e.model, &r)
	if err != nil {
		return 0, 0
	}
	var m match
	e.index.match(q, &m)
	return len(m.decided), len(m.undecided)
}

// Len returns the number of policies in the set.
func (e *Engine) Len() int { return len(e.all) }

// EqualDecisions reports whether a and b are the same decision, with the
// same determining policies and errors.
var EqualDecisions = equalDecisions
