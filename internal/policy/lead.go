package policy

import (
	"slices"

	cedar "github.com/cedar-policy/cedar-go"
	"github.com/cedar-policy/cedar-go/x/exp/ast"
)

// A lead is the test a policy's conditions open with, when it is a fact of
// the request with few values: the principal's kind, MFA, mTLS, or one
// network. Cedar stops at a false first test, so a policy can only match
// requests that have its lead. Buckets keep the policies with a lead apart
// and visit only the leads a request has.
type lead struct {
	fact  leadFact
	value string
}

type leadFact uint8

const (
	leadKind    leadFact = iota + 1 // principal.kind == value
	leadMFA                         // context.mfa == (value == "true")
	leadMTLS                        // context.mtls == (value == "true")
	leadNetwork                     // context.networks.contains(value)
)

// leadOf returns p's lead, or false if its first test is not one.
func leadOf(p *ast.Policy) (lead, bool) {
	if len(p.Conditions) == 0 {
		return lead{}, false
	}
	c := p.Conditions[0]
	first := c.Body
	for {
		and, ok := first.(ast.NodeTypeAnd)
		if !ok || c.Condition == ast.ConditionUnless {
			break
		}
		first = and.Left
	}
	negate := c.Condition == ast.ConditionUnless
	if not, ok := first.(ast.NodeTypeNot); ok {
		first, negate = not.Arg, !negate
	}

	switch n := first.(type) {
	case ast.NodeTypeAccess:
		for _, f := range []leadFact{leadMFA, leadMTLS} {
			if isAccess(n, "context", f.attr()) {
				return lead{f, boolString(!negate)}, true
			}
		}
	case ast.NodeTypeEquals:
		s, ok := stringValue(n.Right)
		if ok && !negate && isAccess(n.Left, "principal", "kind") {
			return lead{leadKind, s}, true
		}
	case ast.NodeTypeContains:
		s, ok := stringValue(n.Right)
		if ok && !negate && isAccess(n.Left, "context", "networks") {
			return lead{leadNetwork, s}, true
		}
	}
	return lead{}, false
}

func (f leadFact) attr() string {
	if f == leadMFA {
		return "mfa"
	}
	return "mtls"
}

// leads appends the leads request r has.
func leads(r *Request, out []lead) []lead {
	out = append(out,
		lead{leadKind, r.PrincipalKind},
		lead{leadMFA, boolString(r.MFA)},
		lead{leadMTLS, boolString(r.MTLS)})
	for _, n := range r.Networks {
		if l := (lead{leadNetwork, n}); !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func stringValue(n ast.IsNode) (string, bool) {
	v, ok := n.(ast.NodeValue)
	if !ok {
		return "", false
	}
	s, ok := v.Value.(cedar.String)
	return string(s), ok
}
