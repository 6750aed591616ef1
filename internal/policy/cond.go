package policy

import (
	cedar "github.com/cedar-policy/cedar-go"
	"github.com/cedar-policy/cedar-go/x/exp/ast"
)

// The index evaluates a policy's conditions as far as it can from the
// Request alone. A condition compiles to a function that answers yes or no
// only when Cedar would compute that value without an evaluation error,
// and unknown otherwise: for an expression it does not support, or for one
// that could fail. Cedar's && and || stop at their first operand when it
// decides them, and so do these functions, so an unsupported operand after
// a deciding one costs nothing.
//
// What the functions read must be what encode gives Cedar: a principal
// with String attributes kind and id, a resource with exactly the
// attributes of its type (resourceAttr), the context of query.context, and
// no entity other than the principal and the resource.

// tri is the value of a condition as far as the index knows it.
type tri uint8

const (
	unknown tri = iota
	no
	yes
)

func truth(b bool) tri {
	if b {
		return yes
	}
	return no
}

type cond func(q *query) tri

// Expressions the index evaluates. A string attribute of the resource may
// be missing, which Cedar reports as an error, so a strExpr says whether it
// has a value; the others always have one.
type (
	strExpr  func(q *query) (string, bool)
	longExpr func(q *query) int64
	ipExpr   func(q *query) cedar.IPAddr
)

func unknownCond(*query) tri { return unknown }

// conditionsOf compiles the when and unless clauses of p into one
// condition; nil means p has none.
func conditionsOf(p *ast.Policy) cond {
	var c cond
	for _, clause := range p.Conditions {
		next := compileBool(clause.Body)
		if clause.Condition == ast.ConditionUnless {
			next = not(next)
		}
		if c == nil {
			c = next
		} else {
			c = and(c, next)
		}
	}
	return c
}

func and(a, b cond) cond {
	return func(q *query) tri {
		if v := a(q); v != yes {
			return v
		}
		return b(q)
	}
}

func or(a, b cond) cond {
	return func(q *query) tri {
		if v := a(q); v != no {
			return v
		}
		return b(q)
	}
}

func not(a cond) cond {
	return func(q *query) tri {
		switch a(q) {
		case yes:
			return no
		case no:
			return yes
		}
		return unknown
	}
}

func compileBool(n ast.IsNode) cond {
	switch n := n.(type) {
	case ast.NodeTypeAnd:
		return and(compileBool(n.Left), compileBool(n.Right))
	case ast.NodeTypeOr:
		return or(compileBool(n.Left), compileBool(n.Right))
	case ast.NodeTypeNot:
		return not(compileBool(n.Arg))
	case ast.NodeValue:
		if b, ok := n.Value.(cedar.Boolean); ok {
			v := truth(bool(b))
			return func(*query) tri { return v }
		}
	case ast.NodeTypeAccess:
		return boolAttr(n)
	case ast.NodeTypeHas:
		return has(n)
	case ast.NodeTypeEquals:
		return equals(n.Left, n.Right)
	case ast.NodeTypeNotEquals:
		return not(equals(n.Left, n.Right))
	case ast.NodeTypeLessThan:
		return compareLong(n.Left, n.Right, func(a, b int64) bool { return a < b })
	case ast.NodeTypeLessThanOrEqual:
		return compareLong(n.Left, n.Right, func(a, b int64) bool { return a <= b })
	case ast.NodeTypeGreaterThan:
		return compareLong(n.Left, n.Right, func(a, b int64) bool { return a > b })
	case ast.NodeTypeGreaterThanOrEqual:
		return compareLong(n.Left, n.Right, func(a, b int64) bool { return a >= b })
	case ast.NodeTypeContains:
		return networksContain(n.Left, n.Right)
	case ast.NodeTypeLike:
		return like(n)
	case ast.NodeTypeIn:
		return in(n.Left, n.Right)
	case ast.NodeTypeIs:
		return is(n.Left, n.EntityType)
	case ast.NodeTypeExtensionCall:
		if n.Name == "isInRange" && len(n.Args) == 2 {
			return inRange(compileIP(n.Args[0]), compileIP(n.Args[1]))
		}
	}
	return unknownCond
}
