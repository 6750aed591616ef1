// Package cases runs policy test cases: requests written in YAML, each with
// the decision a policy set must give it. `securecart policy test` runs a
// file of them, so that a policy change can be checked in CI before it is
// applied.
//
// # Format
//
//	policies: policies.cedar   # optional; relative to this file
//	cases:
//	  - name: dba reads PII in clear with MFA
//	    principal: {id: p-1, kind: person, roles: [dba]}
//	    action: readPII
//	    resource: {type: Customer, id: c-1, owner: c-1}
//	    context: {networks: [], mfa: true, mtls: false, source: 10.0.0.1}
//	    expect: allow
//
// expect is allow or deny. A case may also list, under policies, the
// @id of every policy that must determine its decision. Context fields
// left out take these values: no networks, no MFA, no mTLS (mtls_identity
// defaults to the principal id when mtls is true), source 192.0.2.1, time
// 2026-01-01T12:00:00Z.
//
// # Limits
//
// A file is at most MaxBytes and MaxCases cases; unknown fields are
// errors, so a misspelt field fails the run rather than being ignored.
package cases

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"github.com/securecart/securecart/internal/policy"
)

// Limits on a cases file.
const (
	MaxBytes = 1 << 20
	MaxCases = 10000
)

// File is a parsed cases file.
type File struct {
	Policies string `yaml:"policies"`
	Cases    []Case `yaml:"cases"`
}

// Case is one request and the decision expected of it.
type Case struct {
	Name      string    `yaml:"name"`
	Principal Principal `yaml:"principal"`
	Action    string    `yaml:"action"`
	Resource  Resource  `yaml:"resource"`
	Context   Context   `yaml:"context"`
	Expect    string    `yaml:"expect"`
	// Policies, if set, must be exactly the determining policies.
	Policies []string `yaml:"policies"`
}

// Principal is who asks.
type Principal struct {
	ID    string   `yaml:"id"`
	Kind  string   `yaml:"kind"`
	Roles []string `yaml:"roles"`
}

// Resource is what is asked about.
type Resource struct {
	Type           string `yaml:"type"`
	ID             string `yaml:"id"`
	Owner          string `yaml:"owner"`
	Classification string `yaml:"classification"`
	Order          string `yaml:"order"`
}

// Context is the request's context.
type Context struct {
	Networks     []string  `yaml:"networks"`
	MFA          bool      `yaml:"mfa"`
	MTLS         bool      `yaml:"mtls"`
	MTLSIdentity string    `yaml:"mtls_identity"`
	Source       string    `yaml:"source"`
	Time         time.Time `yaml:"time"`
}

// Parse reads a cases file strictly.
func Parse(data []byte) (*File, error) {
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("parse cases: %d bytes, over the limit of %d", len(data), MaxBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parse cases: %w", err)
	}
	if len(f.Cases) == 0 {
		return nil, errors.New("parse cases: no cases")
	}
	if len(f.Cases) > MaxCases {
		return nil, fmt.Errorf("parse cases: %d cases, over the limit of %d", len(f.Cases), MaxCases)
	}
	for i, c := range f.Cases {
		if c.Expect != "allow" && c.Expect != "deny" {
			return nil, fmt.Errorf("parse cases: case %d (%s): expect must be allow or deny, not %q",
				i+1, c.Name, c.Expect)
		}
	}
	return &f, nil
}

// Request turns the case into the engine's request.
func (c Case) Request() (policy.Request, error) {
	src := netip.MustParseAddr("192.0.2.1")
	if c.Context.Source != "" {
		var err error
		if src, err = netip.ParseAddr(c.Context.Source); err != nil {
			return policy.Request{}, fmt.Errorf("context.source: %w", err)
		}
	}
	at := c.Context.Time
	if at.IsZero() {
		at = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	}
	id := c.Context.MTLSIdentity
	if id == "" && c.Context.MTLS {
		id = c.Principal.ID
	}
	return policy.Request{
		PrincipalID: c.Principal.ID, PrincipalKind: c.Principal.Kind, Roles: c.Principal.Roles,
		Action:       c.Action,
		ResourceType: c.Resource.Type, ResourceID: c.Resource.ID, Owner: c.Resource.Owner,
		Classification: c.Resource.Classification, Order: c.Resource.Order,
		Source: src, Networks: c.Context.Networks, MFA: c.Context.MFA,
		MTLS: c.Context.MTLS, MTLSIdentity: id, Time: at,
	}, nil
}

// Result is the outcome of one case.
type Result struct {
	Case     Case
	Decision policy.Decision
	// Problem says why the case failed; "" when it passed.
	Problem string
}

// Run decides every case with d.
func Run(d policy.Decider, f *File) []Result {
	out := make([]Result, 0, len(f.Cases))
	for _, c := range f.Cases {
		r := Result{Case: c}
		req, err := c.Request()
		if err != nil {
			r.Problem = err.Error()
			out = append(out, r)
			continue
		}
		r.Decision = d.Decide(req)
		got := "deny"
		if r.Decision.Allow {
			got = "allow"
		}
		switch {
		case len(r.Decision.Errors) > 0 && got != c.Expect:
			r.Problem = fmt.Sprintf("got %s with errors %v, want %s", got, r.Decision.Errors, c.Expect)
		case got != c.Expect:
			r.Problem = fmt.Sprintf("got %s by %v, want %s", got, r.Decision.Policies, c.Expect)
		case c.Policies != nil && !slices.Equal(sorted(c.Policies), r.Decision.Policies):
			r.Problem = fmt.Sprintf("got %s by %v, want by %v", got, r.Decision.Policies, sorted(c.Policies))
		}
		out = append(out, r)
	}
	return out
}

func sorted(xs []string) []string {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs
}
