package policy

import (
	"slices"

	cedar "github.com/cedar-policy/cedar-go"
	"github.com/cedar-policy/cedar-go/types"
	"github.com/cedar-policy/cedar-go/x/exp/ast"
)

func boolAttr(n ast.NodeTypeAccess) cond {
	switch {
	case isAccess(n, "context", "mfa"):
		return func(q *query) tri { return truth(q.r.MFA) }
	case isAccess(n, "context", "mtls"):
		return func(q *query) tri { return truth(q.r.MTLS) }
	}
	return unknownCond
}

func has(n ast.NodeTypeHas) cond {
	v, ok := n.Arg.(ast.NodeTypeVariable)
	if !ok {
		return unknownCond
	}
	attr := string(n.Value)
	switch v.Name {
	case "principal":
		found := truth(slices.Contains(principalAttrs, attr))
		return func(*query) tri { return found }
	case "context":
		found := truth(slices.Contains(contextAttrs, attr))
		return func(*query) tri { return found }
	case "resource":
		return func(q *query) tri {
			_, ok := resourceAttr(q.r, attr)
			return truth(ok)
		}
	}
	return unknownCond
}

// equals handles strings, longs and entities. Cedar also compares values
// of other types, and values of two types (always false); those stay
// unknown.
func equals(a, b ast.IsNode) cond {
	if ea, eb := compileEntity(a), compileEntity(b); ea != nil && eb != nil {
		return func(q *query) tri { return truth(ea(q) == eb(q)) }
	}
	if sa, sb := compileStr(a), compileStr(b); sa != nil && sb != nil {
		return func(q *query) tri {
			x, ok := sa(q)
			if !ok {
				return unknown
			}
			y, ok := sb(q)
			if !ok {
				return unknown
			}
			return truth(x == y)
		}
	}
	return compareLong(a, b, func(x, y int64) bool { return x == y })
}

func compareLong(a, b ast.IsNode, test func(x, y int64) bool) cond {
	la, lb := compileLong(a), compileLong(b)
	if la == nil || lb == nil {
		return unknownCond
	}
	return func(q *query) tri { return truth(test(la(q), lb(q))) }
}

func networksContain(set, elem ast.IsNode) cond {
	s := compileStr(elem)
	if s == nil || !isAccess(set, "context", "networks") {
		return unknownCond
	}
	return func(q *query) tri {
		x, ok := s(q)
		if !ok {
			return unknown
		}
		return truth(slices.Contains(q.r.Networks, x))
	}
}

func like(n ast.NodeTypeLike) cond {
	s := compileStr(n.Arg)
	if s == nil {
		return unknownCond
	}
	return func(q *query) tri {
		x, ok := s(q)
		if !ok {
			return unknown
		}
		return truth(n.Value.Match(cedar.String(x)))
	}
}

// in handles principal, action or resource in an entity or a set of
// entities, written as literals.
func in(a, b ast.IsNode) cond {
	v, ok := a.(ast.NodeTypeVariable)
	if !ok {
		return unknownCond
	}
	uids, ok := entityLiterals(b)
	if !ok {
		return unknownCond
	}
	var test func(q *query, uid cedar.EntityUID) bool
	switch v.Name {
	case "principal":
		test = (*query).principalIn
	case "action":
		test = func(q *query, uid cedar.EntityUID) bool { return q.action == uid }
	case "resource":
		test = func(q *query, uid cedar.EntityUID) bool { return q.resource == uid }
	default:
		return unknownCond
	}
	return func(q *query) tri {
		for _, uid := range uids {
			if test(q, uid) {
				return yes
			}
		}
		return no
	}
}

func entityLiterals(n ast.IsNode) ([]cedar.EntityUID, bool) {
	if uid, ok := entityLiteral(n); ok {
		return []cedar.EntityUID{uid}, true
	}
	set, ok := n.(ast.NodeTypeSet)
	if !ok {
		return nil, false
	}
	uids := make([]cedar.EntityUID, 0, len(set.Elements))
	for _, e := range set.Elements {
		uid, ok := entityLiteral(e)
		if !ok {
			return nil, false
		}
		uids = append(uids, uid)
	}
	return uids, true
}

func entityLiteral(n ast.IsNode) (cedar.EntityUID, bool) {
	v, ok := n.(ast.NodeValue)
	if !ok {
		return cedar.EntityUID{}, false
	}
	uid, ok := v.Value.(cedar.EntityUID)
	return uid, ok
}

func is(a ast.IsNode, typ cedar.EntityType) cond {
	v, ok := a.(ast.NodeTypeVariable)
	if !ok {
		return unknownCond
	}
	switch v.Name {
	case "principal":
		return func(q *query) tri { return truth(q.principal.Type == typ) }
	case "action":
		return func(q *query) tri { return truth(q.action.Type == typ) }
	case "resource":
		return func(q *query) tri { return truth(q.resource.Type == typ) }
	}
	return unknownCond
}

func inRange(addr, network ipExpr) cond {
	if addr == nil || network == nil {
		return unknownCond
	}
	return func(q *query) tri { return truth(network(q).Contains(addr(q))) }
}

// compileEntity returns nil for an expression that is not an entity
// literal, the principal, the action or the resource.
func compileEntity(n ast.IsNode) func(q *query) cedar.EntityUID {
	if uid, ok := entityLiteral(n); ok {
		return func(*query) cedar.EntityUID { return uid }
	}
	v, ok := n.(ast.NodeTypeVariable)
	if !ok {
		return nil
	}
	switch v.Name {
	case "principal":
		return func(q *query) cedar.EntityUID { return q.principal }
	case "action":
		return func(q *query) cedar.EntityUID { return q.action }
	case "resource":
		return func(q *query) cedar.EntityUID { return q.resource }
	}
	return nil
}

// compileStr returns nil for an expression that is not a string literal
// or a string attribute.
func compileStr(n ast.IsNode) strExpr {
	if v, ok := n.(ast.NodeValue); ok {
		s, ok := v.Value.(cedar.String)
		if !ok {
			return nil
		}
		return func(*query) (string, bool) { return string(s), true }
	}
	a, ok := n.(ast.NodeTypeAccess)
	if !ok {
		return nil
	}
	attr := string(a.Value)
	switch {
	case isAccess(a, "principal", "kind"):
		return func(q *query) (string, bool) { return q.r.PrincipalKind, true }
	case isAccess(a, "principal", "id"):
		return func(q *query) (string, bool) { return q.r.PrincipalID, true }
	case isAccess(a, "context", "mtlsIdentity"):
		return func(q *query) (string, bool) { return q.r.MTLSIdentity, true }
	case isAccess(a, "resource", attr):
		return func(q *query) (string, bool) { return resourceAttr(q.r, attr) }
	}
	return nil
}

// compileLong returns nil for an expression that is not a Long literal or
// the context's time. Neither can fail.
func compileLong(n ast.IsNode) longExpr {
	if v, ok := n.(ast.NodeValue); ok {
		l, ok := v.Value.(cedar.Long)
		if !ok {
			return nil
		}
		return func(*query) int64 { return int64(l) }
	}
	if isAccess(n, "context", "time") {
		return func(q *query) int64 { return q.r.Time.Unix() }
	}
	return nil
}

// compileIP returns nil for an expression that is not an ip("...")
// literal Cedar accepts or the context's source address.
func compileIP(n ast.IsNode) ipExpr {
	if isAccess(n, "context", "sourceIp") {
		return func(q *query) cedar.IPAddr { return q.source }
	}
	call, ok := n.(ast.NodeTypeExtensionCall)
	if !ok || call.Name != "ip" || len(call.Args) != 1 {
		return nil
	}
	v, ok := call.Args[0].(ast.NodeValue)
	if !ok {
		return nil
	}
	s, ok := v.Value.(cedar.String)
	if !ok {
		return nil
	}
	ip, err := types.ParseIPAddr(string(s))
	if err != nil {
		return nil
	}
	return func(*query) cedar.IPAddr { return ip }
}

func isAccess(n ast.IsNode, variable, attr string) bool {
	a, ok := n.(ast.NodeTypeAccess)
	if !ok || string(a.Value) != attr {
		return false
	}
	v, ok := a.Arg.(ast.NodeTypeVariable)
	return ok && string(v.Name) == variable
}
