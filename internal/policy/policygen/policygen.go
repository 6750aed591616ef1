// Package policygen makes random policy sets and requests for the policy
// engine's tests and benchmarks. Everything is drawn over one small universe
// of principals, roles, resources and networks, so that generated policies
// and requests meet often: a generated set of 1,000 policies allows about
// as many generated requests as it denies.
//
// A Generator is deterministic: the same seed gives the same policies and
// requests, on every machine.
//
// Policies come as values (Policy), so that a benchmark can translate them
// to another policy language, and as Cedar text (Text). Their conditions
// are drawn from three fixed lists: Conditions, which the engine's index
// evaluates itself; Opaque, which it leaves to Cedar; and Failing, which
// makes Cedar report an evaluation error.
package policygen

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"github.com/securecart/securecart/internal/policy"
)

// Generator draws policies and requests from a seeded source.
type Generator struct {
	rnd *rand.Rand

	// Opaque is the share of conditions drawn from Opaque rather than
	// Conditions; zero unless set.
	Opaque float64
}

// New returns a generator whose draws depend only on seed.
func New(seed uint64) *Generator {
	return &Generator{rnd: rand.New(rand.NewPCG(seed, 0x5ec))}
}

// The universe requests and policies are drawn from.
var (
	Roles = []string{
		policy.RoleDeveloper, policy.RoleSecurity, policy.RoleDBA, policy.RoleAppService,
		policy.RolePaymentProvider, policy.RoleAdmin,
		"g0", "g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8", "g9",
	}
	Principals = []string{"p0", "p1", "p2", "p3", "p10", "c-0", "c-1", "c-2"}
	Owners     = []string{"", "c-0", "c-1", "c-2", "p1", "p2"}
	RowIDs     = []string{"r0", "r1", "r2", "c-1", "c-2"}
	Networks   = []string{policy.NetworkApplication, policy.NetworkPayment, "office"}
	Sources    = []string{"10.1.0.3", "10.20.0.7", "192.0.2.44", "2001:db8::7"}
	Kinds      = []string{policy.KindPerson, policy.KindService, policy.KindCustomer}
)

// Conditions type-check for every action, and the engine's index can
// evaluate all of them.
var Conditions = []string{
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

// Opaque are conditions the engine's index leaves to Cedar.
var Opaque = []string{
	`when { context.networks.containsAny(["payment", "office"]) }`,
	`when { context.sourceIp.isIpv4() && context.mfa }`,
	`when { if context.mfa then principal.kind == "person" else context.mtls }`,
	`when { principal.kind == "service" && context.time * 3 > 5303000000 }`,
	`unless { context.networks.isEmpty() }`,
}

// Failing overflows once it gets past context.mfa, so that decisions carry
// evaluation errors too.
const Failing = `when { context.mfa && context.time * 10000000000 > 0 }`

func (g *Generator) pick(xs []string) string { return xs[g.rnd.IntN(len(xs))] }

func (g *Generator) chance(p float64) bool { return g.rnd.Float64() < p }

// Text returns n policies (see Policies) as Cedar text.
func (g *Generator) Text(n int) []byte {
	return Cedar(g.Policies(n))
}

// Request returns a valid request: the resource has a type the action
// applies to.
func (g *Generator) Request() policy.Request {
	action := g.pick(policy.Actions())
	typ := policy.ResourceTypes(action)[0]
	r := policy.Request{
		PrincipalID:    g.pick(Principals),
		PrincipalKind:  g.pick(Kinds),
		Action:         action,
		ResourceType:   typ,
		ResourceID:     g.resourceID(typ),
		Owner:          g.pick(Owners),
		Classification: g.pick([]string{"pii", "internal"}),
		Order:          g.pick(RowIDs),
		Source:         netip.MustParseAddr(g.pick(Sources)),
		MFA:            g.chance(0.5),
		MTLS:           g.chance(0.3),
		Time:           time.Unix(1767225600+g.rnd.Int64N(200)-100, 0),
	}
	if r.MTLS {
		r.MTLSIdentity = g.pick([]string{"psp-1", "app"})
	}
	for range g.rnd.IntN(4) {
		r.Roles = append(r.Roles, g.pick(Roles))
	}
	for _, n := range Networks {
		if g.chance(0.4) {
			r.Networks = append(r.Networks, n)
		}
	}
	return r
}

// Requests returns n requests drawn one after the other.
func (g *Generator) Requests(n int) []policy.Request {
	rs := make([]policy.Request, n)
	for i := range rs {
		rs[i] = g.Request()
	}
	return rs
}

func (g *Generator) resourceID(typ string) string {
	if typ == policy.TypeCollection {
		return g.pick(policy.Collections())
	}
	return g.pick(RowIDs)
}

// Cedar returns ps as Cedar text, one policy after the other.
func Cedar(ps []Policy) []byte {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.String())
		b.WriteString("\n\n")
	}
	return []byte(b.String())
}

func quote(s string) string { return fmt.Sprintf("%q", s) }
