package policy

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"
)

// gen makes random policy sets and requests over one small universe of
// principals, roles, resources and networks, so that generated policies
// and requests meet often.
type gen struct {
	rnd    *rand.Rand
	opaque float64 // the share of conditions drawn from genOpaque
}

func newGen(seed uint64) *gen {
	return &gen{rnd: rand.New(rand.NewPCG(seed, 0x5ec))}
}

var (
	genRoles = []string{
		RoleDeveloper, RoleSecurity, RoleDBA, RoleAppService, RolePaymentProvider, RoleAdmin,
		"g0", "g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8", "g9",
	}
	genPrincipals = []string{"p0", "p1", "p2", "p3", "p10", "c-0", "c-1", "c-2"}
	genOwners     = []string{"", "c-0", "c-1", "c-2", "p1", "p2"}
	genRowIDs     = []string{"r0", "r1", "r2", "c-1", "c-2"}
	genNetworks   = []string{NetworkApplication, NetworkPayment, "office"}
	genSources    = []string{"10.1.0.3", "10.20.0.7", "192.0.2.44", "2001:db8::7"}
	genKinds      = []string{KindPerson, KindService, KindCustomer}

	// genConditions typecheck for every action, and the index can evaluate
	// all of them.
	genConditions = []string{
		`when { principal.kind == "service" }`,
		`when { principal.kind != "customer" && context.mfa }`,
		`when { context.mfa && context.networks.contains("payment") }`,
		`unless { context.networks.contains("office") }`,
		`when { !context.mtls }`,
		`when { context.mtls } unless { principal.kind == "person" }`,
		`when { context.time > 1767225600 }`,
		`when { resource has owner && resource.owner == principal.id }`,
		`when { context.sourceIp.isInRange(ip("10.0.0.0/8")) }`,
		`when { context.mtlsIdentity == "psp-1" }`,
		`when { principal.id like "p1*" }`,
		`when { principal.kind == "person" && principal.id == "p2" }`,
	}

	// genOpaque are conditions the index leaves to Cedar.
	genOpaque = []string{
		`when { context.networks.containsAny(["payment", "office"]) }`,
		`when { context.sourceIp.isIpv4() && context.mfa }`,
		`when { if context.mfa then principal.kind == "person" else context.mtls }`,
		`when { principal.kind == "service" && context.time * 3 > 5303000000 }`,
		`unless { context.networks.isEmpty() }`,
	}

	// genFailing overflows when it gets past context.mfa, so that evaluation
	// errors are compared too.
	genFailing = `when { context.mfa && context.time * 10000000000 > 0 }`
)

func (g *gen) pick(xs []string) string { return xs[g.rnd.IntN(len(xs))] }

func (g *gen) chance(p float64) bool { return g.rnd.Float64() < p }

// policies returns n policies: 70% scoped to a principal group or a
// principal and one action, 20% to one action only, 10% unscoped with a
// condition. Scoped ones carry a condition half the time, and some narrow
// the resource too. Forbids are rarer where they reach more requests, so
// that about as many requests are allowed as denied.
func (g *gen) policies(n int) []byte {
	actions := Actions()
	var b strings.Builder
	for i := range n {
		action := g.pick(actions)
		principal, act, resource, cond := "principal", "action", "resource", ""
		forbid := 0.01

		switch x := g.rnd.Float64(); {
		case x < 0.7:
			principal = g.principalScope()
			act = fmt.Sprintf(`action == SecureCart::Action::%q`, action)
			resource = g.resourceScope(action)
			forbid = 0.2
			switch y := g.rnd.Float64(); {
			case y < 0.05:
				cond = genFailing
			case y < 0.5:
				cond = g.condition()
			}
		case x < 0.9:
			act = fmt.Sprintf(`action == SecureCart::Action::%q`, action)
			if g.chance(0.5) {
				cond = g.condition()
			}
		default:
			cond = g.condition()
		}

		effect := "permit"
		if g.chance(forbid) {
			effect = "forbid"
		}
		fmt.Fprintf(&b, "@id(\"gen-%d\")\n%s (%s, %s, %s) %s;\n\n",
			i, effect, principal, act, resource, cond)
	}
	return []byte(b.String())
}

func (g *gen) condition() string {
	if g.chance(g.opaque) {
		return g.pick(genOpaque)
	}
	return g.pick(genConditions)
}

func (g *gen) principalScope() string {
	switch x := g.rnd.Float64(); {
	case x < 0.8:
		return fmt.Sprintf(`principal in SecureCart::Role::%q`, g.pick(genRoles))
	case x < 0.9:
		return fmt.Sprintf(`principal == SecureCart::Principal::%q`, g.pick(genPrincipals))
	default:
		return fmt.Sprintf(`principal is SecureCart::Principal in SecureCart::Role::%q`, g.pick(genRoles))
	}
}

func (g *gen) resourceScope(action string) string {
	typ := ResourceTypes(action)[0]
	switch x := g.rnd.Float64(); {
	case x < 0.7:
		return "resource"
	case x < 0.85:
		return "resource is SecureCart::" + typ
	default:
		return fmt.Sprintf(`resource == SecureCart::%s::%q`, typ, g.resourceID(typ))
	}
}

func (g *gen) resourceID(typ string) string {
	if typ == TypeCollection {
		return g.pick(Collections())
	}
	return g.pick(genRowIDs)
}

// request returns a valid request: the resource has a type the action
// applies to.
func (g *gen) request() Request {
	action := g.pick(Actions())
	typ := ResourceTypes(action)[0]
	r := Request{
		PrincipalID:    g.pick(genPrincipals),
		PrincipalKind:  g.pick(genKinds),
		Action:         action,
		ResourceType:   typ,
		ResourceID:     g.resourceID(typ),
		Owner:          g.pick(genOwners),
		Classification: g.pick([]string{"pii", "internal"}),
		Order:          g.pick(genRowIDs),
		Source:         netip.MustParseAddr(g.pick(genSources)),
		MFA:            g.chance(0.5),
		MTLS:           g.chance(0.3),
		Time:           time.Unix(1767225600+g.rnd.Int64N(200)-100, 0),
	}
	if r.MTLS {
		r.MTLSIdentity = g.pick([]string{"psp-1", "app"})
	}
	for range g.rnd.IntN(4) {
		r.Roles = append(r.Roles, g.pick(genRoles))
	}
	for _, n := range genNetworks {
		if g.chance(0.4) {
			r.Networks = append(r.Networks, n)
		}
	}
	return r
}
