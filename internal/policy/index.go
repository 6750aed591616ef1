package policy

import (
	"iter"
	"slices"

	cedar "github.com/cedar-policy/cedar-go"
	"github.com/cedar-policy/cedar-go/x/exp/ast"
)

// index finds the policies that can match a request. Its invariant: a
// policy it leaves out would evaluate to false, without error, on that
// request; a policy it reports as decided would evaluate to true, without
// error. So Cedar, run on the undecided candidates and combined with the
// decided ones, reaches the decision, reasons and errors it would reach on
// the whole set.
//
// Policies are bucketed by action, then by the entity their principal scope
// names, or else by their lead (lead.go). Each policy found is checked
// against its full principal and resource scope, then its conditions as
// far as cond.go can evaluate them.
// The scope checks assume the entities encode builds: a principal whose
// only ancestors are its roles, and resources and actions without
// ancestors. A scope the index does not know leaves the policy to Cedar.
type index struct {
	byAction  map[cedar.EntityUID]*bucket
	anyAction bucket
	byRank    []*entry // every policy, sorted by id
}

type bucket struct {
	byEntity map[cedar.EntityUID][]*entry // principal ==, in, is ... in
	byLead   map[lead][]*entry            // the others, when they have a lead
	rest     []*entry                     // and when they do not
}

type entry struct {
	id        cedar.PolicyID
	rank      int // of id among the set's ids in sorted order
	policy    *cedar.Policy
	forbid    bool
	principal ast.IsPrincipalScopeNode // nil when unconstrained
	resource  ast.IsResourceScopeNode  // nil when unconstrained
	cond      cond                     // nil without conditions
	scoped    bool                     // the index understands the whole scope
	lead      lead                     // set when hasLead
	hasLead   bool
}

func newIndex(ids []cedar.PolicyID, policies []*cedar.Policy) *index {
	ix := &index{
		byAction:  make(map[cedar.EntityUID]*bucket),
		anyAction: bucket{byEntity: make(map[cedar.EntityUID][]*entry)},
		byRank:    make([]*entry, len(policies)),
	}
	sorted := slices.Sorted(slices.Values(ids))
	for i, p := range policies {
		a := (*ast.Policy)(p.AST())
		rank, _ := slices.BinarySearch(sorted, ids[i])
		buckets, known := ix.buckets(a.Action)
		e := &entry{
			id:        ids[i],
			rank:      rank,
			policy:    p,
			forbid:    p.Effect() == cedar.Forbid,
			principal: constraint(a.Principal),
			resource:  constraint(a.Resource),
			cond:      conditionsOf(a),
			scoped:    known && knownScope(a.Principal) && knownScope(a.Resource),
		}
		e.lead, e.hasLead = leadOf(a)
		ix.byRank[rank] = e
		for _, b := range buckets {
			b.add(e)
		}
	}
	return ix
}

// buckets returns the buckets a policy with this action scope belongs to,
// and whether the index understood the scope.
func (ix *index) buckets(s ast.IsActionScopeNode) ([]*bucket, bool) {
	var uids []cedar.EntityUID
	switch s := s.(type) {
	case ast.ScopeTypeAll:
		return []*bucket{&ix.anyAction}, true
	case ast.ScopeTypeEq:
		uids = []cedar.EntityUID{s.Entity}
	case ast.ScopeTypeIn:
		uids = []cedar.EntityUID{s.Entity}
	case ast.ScopeTypeInSet:
		uids = s.Entities
	default:
		return []*bucket{&ix.anyAction}, false
	}

	var out []*bucket
	for _, uid := range uids {
		b := ix.byAction[uid]
		if b == nil {
			b = &bucket{byEntity: make(map[cedar.EntityUID][]*entry)}
			ix.byAction[uid] = b
		}
		if !containsBucket(out, b) {
			out = append(out, b)
		}
	}
	return out, true
}

func containsBucket(bs []*bucket, b *bucket) bool {
	for _, x := range bs {
		if x == b {
			return true
		}
	}
	return false
}

// constraint returns s, or nil for a scope that admits anything.
func constraint[S ast.IsScopeNode](s S) S {
	var none S
	if _, all := any(s).(ast.ScopeTypeAll); all {
		return none
	}
	return s
}

func knownScope(s ast.IsScopeNode) bool {
	switch s.(type) {
	case ast.ScopeTypeAll, ast.ScopeTypeEq, ast.ScopeTypeIn, ast.ScopeTypeIs, ast.ScopeTypeIsIn:
		return true
	}
	return false
}

func (b *bucket) add(e *entry) {
	switch s := e.principal.(type) {
	case ast.ScopeTypeEq:
		b.byEntity[s.Entity] = append(b.byEntity[s.Entity], e)
	case ast.ScopeTypeIn:
		b.byEntity[s.Entity] = append(b.byEntity[s.Entity], e)
	case ast.ScopeTypeIsIn:
		b.byEntity[s.Entity] = append(b.byEntity[s.Entity], e)
	default:
		if !e.hasLead {
			b.rest = append(b.rest, e)
			return
		}
		if b.byLead == nil {
			b.byLead = make(map[lead][]*entry)
		}
		b.byLead[e.lead] = append(b.byLead[e.lead], e)
	}
}

// match sorts the policies that may match q into those known to match
// (decided) and those Cedar must evaluate (undecided).
type match struct {
	decided, undecided []*entry
}

func (ix *index) match(q *query, m *match) {
	if b := ix.byAction[q.action]; b != nil {
		b.match(q, m)
	}
	ix.anyAction.match(q, m)
}

func (b *bucket) match(q *query, m *match) {
	m.keep(q, b.byEntity[q.principal])
	for _, r := range q.roles {
		m.keep(q, b.byEntity[r])
	}
	m.keep(q, b.rest)
	if len(b.byLead) > 0 {
		for _, l := range q.leads {
			m.keep(q, b.byLead[l])
		}
	}
}

func (m *match) keep(q *query, es []*entry) {
	for _, e := range es {
		if e.principal != nil && !q.principalMatches(e.principal) ||
			e.resource != nil && !q.resourceMatches(e.resource) {
			continue
		}
		v := yes
		if e.cond != nil {
			v = e.cond(q)
		}
		switch {
		case v == no:
		case v == yes && e.scoped:
			m.decided = append(m.decided, e)
		default:
			m.undecided = append(m.undecided, e)
		}
	}
}

func (q *query) principalMatches(s ast.IsPrincipalScopeNode) bool {
	switch s := s.(type) {
	case ast.ScopeTypeEq:
		return s.Entity == q.principal
	case ast.ScopeTypeIn:
		return q.principalIn(s.Entity)
	case ast.ScopeTypeIs:
		return s.Type == q.principal.Type
	case ast.ScopeTypeIsIn:
		return s.Type == q.principal.Type && q.principalIn(s.Entity)
	}
	return true
}

func (q *query) principalIn(uid cedar.EntityUID) bool {
	if uid == q.principal {
		return true
	}
	for _, r := range q.roles {
		if r == uid {
			return true
		}
	}
	return false
}

func (q *query) resourceMatches(s ast.IsResourceScopeNode) bool {
	switch s := s.(type) {
	case ast.ScopeTypeEq:
		return s.Entity == q.resource
	case ast.ScopeTypeIn:
		return s.Entity == q.resource
	case ast.ScopeTypeIs:
		return s.Type == q.resource.Type
	case ast.ScopeTypeIsIn:
		return s.Type == q.resource.Type && s.Entity == q.resource
	}
	return true
}

// entries lets Cedar evaluate a list of candidates.
type entries []*entry

func (es entries) All() iter.Seq2[cedar.PolicyID, *cedar.Policy] {
	return func(yield func(cedar.PolicyID, *cedar.Policy) bool) {
		for _, e := range es {
			if !yield(e.id, e.policy) {
				return
			}
		}
	}
}
