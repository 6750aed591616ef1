package policy

import (
	"fmt"
	"math/bits"
	"slices"
	"sync"

	cedar "github.com/cedar-policy/cedar-go"
	"github.com/cedar-policy/cedar-go/x/exp/ast"
	"github.com/cedar-policy/cedar-go/x/exp/schema/validate"
)

// Limits on a policy set given to New.
const (
	MaxSourceBytes = 4 << 20
	MaxPolicies    = 20000
)

// Engine decides requests against one policy set. It never changes after
// New and is safe for concurrent use.
type Engine struct {
	model *model
	all   cedar.PolicyMap
	index *index
	pool  sync.Pool // *state, reused between decisions
}

// New parses a policy set in Cedar syntax, checks that every policy has a
// unique @id annotation and validates each against the schema. Errors name
// the policy and its line and column.
func New(src []byte) (*Engine, error) {
	if len(src) > MaxSourceBytes {
		return nil, fmt.Errorf("parse policies: %d bytes, over the limit of %d", len(src), MaxSourceBytes)
	}
	m, err := loadModel()
	if err != nil {
		return nil, err
	}
	list, err := cedar.NewPolicyListFromBytes("policies", src)
	if err != nil {
		return nil, fmt.Errorf("parse policies: %w", err)
	}
	if len(list) > MaxPolicies {
		return nil, fmt.Errorf("parse policies: %d policies, over the limit of %d", len(list), MaxPolicies)
	}

	v := validate.New(m.resolved)
	e := &Engine{model: m, all: make(cedar.PolicyMap, len(list))}
	ids := make([]cedar.PolicyID, len(list))
	for i, p := range list {
		pos := p.Position()
		id, ok := p.Annotations()["id"]
		if !ok || id == "" {
			return nil, fmt.Errorf("read policy at line %d, column %d: no @id annotation", pos.Line, pos.Column)
		}
		if _, dup := e.all[cedar.PolicyID(id)]; dup {
			return nil, fmt.Errorf("read policy %q at line %d, column %d: @id used twice", id, pos.Line, pos.Column)
		}
		if err := v.Policy(string(id), (*ast.Policy)(p.AST())); err != nil {
			return nil, fmt.Errorf("validate policy %q at line %d, column %d: %w", id, pos.Line, pos.Column, err)
		}
		ids[i] = cedar.PolicyID(id)
		e.all[ids[i]] = p
	}
	e.index = newIndex(ids, list)
	return e, nil
}

var defaultEngine = sync.OnceValues(func() (*Engine, error) { return New(defaultPolicies) })

// Default returns the engine for the default policy set. Every call returns
// the same engine.
func Default() (*Engine, error) { return defaultEngine() }

// Decide evaluates r. A request the engine cannot put to Cedar, such as an
// unknown action or a resource type the action does not apply to, is
// denied with the reason in Errors.
func (e *Engine) Decide(r Request) Decision {
	s, _ := e.pool.Get().(*state)
	if s == nil {
		s = new(state)
	}
	defer e.pool.Put(s)
	defer s.reset()

	s.req = r
	if err := s.q.load(e.model, &s.req); err != nil {
		return refused(err)
	}
	e.index.match(&s.q, &s.match)

	var d Decision
	if len(s.undecided) > 0 {
		s.q.encode()
		d = decide(entries(s.undecided), &s.q)
	}
	return s.combine(d, e.index)
}

// state is the memory of one decision, reused by the next.
type state struct {
	req   Request
	q     query
	ranks []uint64 // a bitmap, zero between decisions
	match
}

func (s *state) reset() {
	clear(s.decided)
	clear(s.undecided)
	*s = state{
		q:     query{roles: s.q.roles[:0], leads: s.q.leads[:0]},
		ranks: s.ranks,
		match: match{decided: s.decided[:0], undecided: s.undecided[:0]},
	}
}

// decideUnindexed evaluates r against every policy, as plain Cedar would.
func (e *Engine) decideUnindexed(r Request) Decision {
	q, err := newQuery(e.model, &r)
	if err != nil {
		return refused(err)
	}
	q.encode()
	return decide(e.all, q)
}

func decide(ps cedar.PolicyIterator, q *query) Decision {
	ok, diag := cedar.Authorize(ps, q.entities, q.cedar)
	d := Decision{Allow: ok == cedar.Allow}
	for _, r := range diag.Reasons {
		d.Policies = append(d.Policies, string(r.PolicyID))
	}
	for _, e := range diag.Errors {
		d.Errors = append(d.Errors, fmt.Sprintf("policy %s: %s", e.PolicyID, e.Message))
	}
	slices.Sort(d.Policies)
	slices.Sort(d.Errors)
	return d
}

// combine adds to Cedar's decision on the undecided policies the policies
// known to match. Cedar's reasons are its matching forbids when it denies
// and its matching permits when it allows.
func (s *state) combine(d Decision, ix *index) Decision {
	if len(s.decided) == 0 {
		return d
	}
	forbids := 0
	for _, e := range s.decided {
		if e.forbid {
			forbids++
		}
	}
	forbid := forbids > 0 || !d.Allow && len(d.Policies) > 0
	n := len(s.decided) - forbids
	if forbid {
		n = forbids
	}

	out := Decision{Allow: !forbid, Errors: d.Errors}
	if d.Allow == out.Allow {
		out.Policies = slices.Grow(d.Policies, n)
	} else {
		out.Policies = make([]string, 0, n)
	}
	for _, e := range s.inOrder(ix) {
		if e.forbid == forbid {
			out.Policies = append(out.Policies, string(e.id))
		}
	}
	if len(d.Policies) > 0 {
		slices.Sort(out.Policies)
	}
	return out
}

// inOrder sorts the decided policies by id, through a bitmap of ranks.
func (s *state) inOrder(ix *index) []*entry {
	if n := (len(ix.byRank) + 63) / 64; len(s.ranks) < n {
		s.ranks = make([]uint64, n)
	}
	for _, e := range s.decided {
		s.ranks[e.rank/64] |= 1 << (e.rank % 64)
	}
	out := s.decided[:0]
	for i, w := range s.ranks {
		for ; w != 0; w &= w - 1 {
			out = append(out, ix.byRank[i*64+bits.TrailingZeros64(w)])
		}
		s.ranks[i] = 0
	}
	return out
}

func refused(err error) Decision {
	return Decision{Errors: []string{"refuse request: " + err.Error()}}
}
