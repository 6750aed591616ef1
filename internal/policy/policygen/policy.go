package policygen

import (
	"fmt"

	"github.com/securecart/securecart/internal/policy"
)

// Policy is one generated policy, in a form another policy language can
// be written from.
type Policy struct {
	ID     string // the @id annotation
	Forbid bool

	// Principal is the principal scope: All, Eq (Principal::ID), In
	// (in Role::ID) or IsIn (is Principal in Role::ID).
	Principal Scope
	// Action is the one action the policy applies to, or "" for any.
	Action string
	// Resource is the resource scope: All, Is (is Type) or Eq (Type::ID).
	Resource Scope

	// Condition is one of Conditions, Opaque or Failing, or "" for none.
	Condition string
}

// Scope is a scope constraint of a policy.
type Scope struct {
	Op   ScopeOp
	Type string // the resource type for Is and Eq on the resource
	ID   string // the entity id for Eq, In and IsIn
}

// ScopeOp is how a scope constrains its entity.
type ScopeOp int

// The scope constraints a generated policy uses.
const (
	All  ScopeOp = iota // no constraint
	Eq                  // == an entity
	In                  // in a role
	IsIn                // is Principal in a role
	Is                  // is a resource type
)

// String returns p in Cedar syntax.
func (p Policy) String() string {
	effect := "permit"
	if p.Forbid {
		effect = "forbid"
	}
	principal := "principal"
	switch p.Principal.Op {
	case Eq:
		principal = "principal == SecureCart::Principal::" + quote(p.Principal.ID)
	case In:
		principal = "principal in SecureCart::Role::" + quote(p.Principal.ID)
	case IsIn:
		principal = "principal is SecureCart::Principal in SecureCart::Role::" + quote(p.Principal.ID)
	}
	action := "action"
	if p.Action != "" {
		action = "action == SecureCart::Action::" + quote(p.Action)
	}
	resource := "resource"
	switch p.Resource.Op {
	case Is:
		resource = "resource is SecureCart::" + p.Resource.Type
	case Eq:
		resource = fmt.Sprintf("resource == SecureCart::%s::%s", p.Resource.Type, quote(p.Resource.ID))
	}
	return fmt.Sprintf("@id(%s)\n%s (%s, %s, %s) %s;",
		quote(p.ID), effect, principal, action, resource, p.Condition)
}

// Policies returns n policies with ids gen-0 to gen-(n-1): 70% scoped to a
// principal group or a principal and one action, 20% to one action only,
// 10% unscoped with a condition. Scoped ones carry a condition half the
// time, and some narrow the resource too. Forbids are rarer where they
// reach more requests, so that about as many requests are allowed as
// denied.
func (g *Generator) Policies(n int) []Policy {
	actions := policy.Actions()
	ps := make([]Policy, n)
	for i := range ps {
		p := Policy{ID: fmt.Sprintf("gen-%d", i)}
		action := g.pick(actions)
		forbid := 0.01

		switch x := g.rnd.Float64(); {
		case x < 0.7:
			p.Principal = g.principalScope()
			p.Action = action
			p.Resource = g.resourceScope(action)
			forbid = 0.2
			switch y := g.rnd.Float64(); {
			case y < 0.05:
				p.Condition = Failing
			case y < 0.5:
				p.Condition = g.condition()
			}
		case x < 0.9:
			p.Action = action
			if g.chance(0.5) {
				p.Condition = g.condition()
			}
		default:
			p.Condition = g.condition()
		}

		p.Forbid = g.chance(forbid)
		ps[i] = p
	}
	return ps
}

func (g *Generator) condition() string {
	if g.chance(g.Opaque) {
		return g.pick(Opaque)
	}
	return g.pick(Conditions)
}

func (g *Generator) principalScope() Scope {
	switch x := g.rnd.Float64(); {
	case x < 0.8:
		return Scope{Op: In, ID: g.pick(Roles)}
	case x < 0.9:
		return Scope{Op: Eq, ID: g.pick(Principals)}
	default:
		return Scope{Op: IsIn, ID: g.pick(Roles)}
	}
}

func (g *Generator) resourceScope(action string) Scope {
	typ := policy.ResourceTypes(action)[0]
	switch x := g.rnd.Float64(); {
	case x < 0.7:
		return Scope{}
	case x < 0.85:
		return Scope{Op: Is, Type: typ}
	default:
		return Scope{Op: Eq, Type: typ, ID: g.resourceID(typ)}
	}
}
