package analyze

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/securecart/securecart/internal/policy"
)

// MaxNetworks bounds the networks a matrix enumerates: each one doubles
// the variants.
const MaxNetworks = 8

// Variant is one context a cell is evaluated in.
type Variant struct {
	Networks []string `json:"networks"` // the named networks the source is in
	MFA      bool     `json:"mfa"`
	MTLS     bool     `json:"mtls"`
}

// String names the variant compactly, such as "application+mfa".
func (v Variant) String() string {
	parts := slices.Clone(v.Networks)
	if len(parts) == 0 {
		parts = []string{"nowhere"}
	}
	if v.MFA {
		parts = append(parts, "mfa")
	}
	if v.MTLS {
		parts = append(parts, "mtls")
	}
	return strings.Join(parts, "+")
}

// Row is one principal and target across every variant.
type Row struct {
	Role     string `json:"role"` // "" for a principal with no role
	Kind     string `json:"kind"`
	Action   string `json:"action"`
	Resource string `json:"resource"` // "Customer", "Collection::audit", ...
	// Owner, for rows that have one, is whose row it is: "own" (the
	// principal's own id), "other", or "all" for a list of every owner.
	Owner string `json:"owner,omitempty"`
	// Cells has one character per variant: Y allowed, . denied, - not
	// applicable (MFA for a principal that is not a person).
	Cells string `json:"cells"`
}

// Matrix is the effective permission matrix of a policy set.
type Matrix struct {
	Roles    []string  `json:"roles"`
	Networks []string  `json:"networks"`
	Variants []Variant `json:"variants"`
	Rows     []Row     `json:"rows"`
}

// Cell is one entry of a matrix.
type Cell struct {
	Role     string  `json:"role"`
	Kind     string  `json:"kind"`
	Action   string  `json:"action"`
	Resource string  `json:"resource"`
	Owner    string  `json:"owner,omitempty"`
	Variant  Variant `json:"variant"`
}

// String prints the cell on one line.
func (c Cell) String() string {
	role := c.Role
	if role == "" {
		role = "(no role)"
	}
	res := c.Resource
	if c.Owner != "" {
		res += "[" + c.Owner + "]"
	}
	return fmt.Sprintf("%s/%s %s %s in %s", role, c.Kind, c.Action, res, c.Variant)
}

// subject is a kind of principal the matrix asks about.
type subject struct{ role, kind string }

// target is what a row asks for.
type target struct{ action, typ, id, owner string }

// The fixed parts of every request the matrix evaluates.
var (
	analysisSource = netip.MustParseAddr("192.0.2.1")
	analysisTime   = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
)

const (
	principalID = "analyzer-principal"
	otherOwner  = "analyzer-other-customer"
)

// universe is what a matrix enumerates: every role the default policies
// know plus extra, and every network any of the sets tests.
func universe(extraRoles, networks []string) ([]string, []string, error) {
	roles := policy.KnownRoles()
	for _, r := range extraRoles {
		if !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	slices.Sort(roles)
	nets := []string{policy.NetworkApplication, policy.NetworkPayment}
	for _, n := range networks {
		if !slices.Contains(nets, n) {
			nets = append(nets, n)
		}
	}
	slices.Sort(nets)
	if len(nets) > MaxNetworks {
		return nil, nil, fmt.Errorf("analyze: the sets test %d networks, more than the %d a matrix enumerates",
			len(nets), MaxNetworks)
	}
	return roles, nets, nil
}

// rolesAndNetworks collects what sets name.
func rolesAndNetworks(sets ...*policy.Set) (roles, nets []string) {
	for _, s := range sets {
		for _, p := range s.Policies {
			roles = append(roles, p.Roles...)
			nets = append(nets, p.Networks...)
		}
	}
	return roles, nets
}

// variants returns every combination of networks, MFA and mTLS.
func variants(nets []string) []Variant {
	var out []Variant
	for mask := 0; mask < 1<<len(nets); mask++ {
		in := []string{}
		for i, n := range nets {
			if mask&(1<<i) != 0 {
				in = append(in, n)
			}
		}
		for _, mfa := range []bool{false, true} {
			for _, mtls := range []bool{false, true} {
				out = append(out, Variant{Networks: in, MFA: mfa, MTLS: mtls})
			}
		}
	}
	return out
}

func subjects(roles []string) []subject {
	var out []subject
	for _, r := range append([]string{""}, roles...) {
		out = append(out, subject{r, policy.KindPerson}, subject{r, policy.KindService})
	}
	return append(out, subject{"", policy.KindCustomer})
}

func targets() []target {
	var out []target
	for _, a := range policy.Actions() {
		for _, typ := range policy.ResourceTypes(a) {
			switch typ {
			case policy.TypeCollection:
				ids := []string{policy.CollectionOf(a)}
				if ids[0] == "" {
					ids = policy.Collections()
				}
				for _, id := range ids {
					out = append(out, target{action: a, typ: typ, id: id})
				}
			case policy.TypeCustomer, policy.TypeOrder:
				for _, o := range []string{"own", "other", "all"} {
					out = append(out, target{action: a, typ: typ, owner: o})
				}
			default:
				out = append(out, target{action: a, typ: typ})
			}
		}
	}
	return out
}

func (t target) resource() string {
	if t.id != "" {
		return t.typ + "::" + t.id
	}
	return t.typ
}

// request builds the request a cell stands for.
func request(s subject, t target, v Variant) policy.Request {
	r := policy.Request{
		PrincipalID:    principalID,
		PrincipalKind:  s.kind,
		Action:         t.action,
		ResourceType:   t.typ,
		ResourceID:     t.id,
		Classification: policy.Classification(t.typ),
		Source:         analysisSource,
		Networks:       v.Networks,
		MFA:            v.MFA,
		MTLS:           v.MTLS,
		Time:           analysisTime,
	}
	if s.role != "" {
		r.Roles = []string{s.role}
	}
	if v.MTLS {
		r.MTLSIdentity = principalID
	}
	switch t.owner {
	case "own":
		r.Owner = principalID
	case "other":
		r.Owner = otherOwner
	}
	switch t.typ {
	case policy.TypeCustomer:
		r.ResourceID = r.Owner
		if r.ResourceID == "" {
			r.ResourceID = "analyzer-list"
		}
	case policy.TypeOrder, policy.TypeProduct:
		r.ResourceID = "analyzer-row"
	case policy.TypeTransaction:
		r.ResourceID, r.Order = "analyzer-row", "analyzer-order"
	}
	return r
}

// applicable reports whether a variant can occur for a subject: only
// people sign in with MFA.
func applicable(s subject, v Variant) bool {
	return !v.MFA || s.kind == policy.KindPerson
}

// Build evaluates set over every role it or the default policies name
// (plus extraRoles), every action and resource, and every variant of the
// networks it tests (plus extraNetworks), with the set's own engine.
func Build(set *policy.Set, extraRoles, extraNetworks []string) (*Matrix, error) {
	roles, nets := rolesAndNetworks(set)
	roles, nets, err := universe(append(roles, extraRoles...), append(nets, extraNetworks...))
	if err != nil {
		return nil, err
	}
	m := &Matrix{Roles: roles, Networks: nets, Variants: variants(nets)}
	cells := make([]byte, len(m.Variants))
	for _, s := range subjects(roles) {
		for _, t := range targets() {
			for i, v := range m.Variants {
				switch {
				case !applicable(s, v):
					cells[i] = '-'
				case set.Engine.Decide(request(s, t, v)).Allow:
					cells[i] = 'Y'
				default:
					cells[i] = '.'
				}
			}
			m.Rows = append(m.Rows, Row{Role: s.role, Kind: s.kind, Action: t.action,
				Resource: t.resource(), Owner: t.owner, Cells: string(cells)})
		}
	}
	return m, nil
}

// Allowed lists the cells the matrix allows.
func (m *Matrix) Allowed() []Cell {
	var out []Cell
	for _, r := range m.Rows {
		for i, c := range []byte(r.Cells) {
			if c == 'Y' {
				out = append(out, r.cell(m.Variants[i]))
			}
		}
	}
	return out
}

func (r Row) cell(v Variant) Cell {
	return Cell{Role: r.Role, Kind: r.Kind, Action: r.Action, Resource: r.Resource, Owner: r.Owner, Variant: v}
}
