package bench

import (
	"fmt"
	"net/netip"

	cedar "github.com/cedar-policy/cedar-go"
	"github.com/securecart/securecart/internal/policy"
)

// CedarSet is a policy set evaluated by cedar-go alone: every policy on
// every request. (cedar.Authorize on a PolicySet is what the deprecated
// PolicySet.IsAuthorized calls.)
type CedarSet struct {
	ps *cedar.PolicySet
}

// NewCedarSet parses src, naming each policy by its @id annotation as the
// SecureCart engine does.
func NewCedarSet(src []byte) (*CedarSet, error) {
	list, err := cedar.NewPolicyListFromBytes("policies", src)
	if err != nil {
		return nil, fmt.Errorf("parse policies: %w", err)
	}
	ps := cedar.NewPolicySet()
	for _, p := range list {
		id := p.Annotations()["id"]
		if !ps.Add(cedar.PolicyID(id), p) {
			return nil, fmt.Errorf("add policy %q: @id used twice", id)
		}
	}
	return &CedarSet{ps: ps}, nil
}

// Decide puts r to cedar-go.
func (c *CedarSet) Decide(r policy.Request) (cedar.Decision, cedar.Diagnostic) {
	entities, req := encodeCedar(&r)
	return cedar.Authorize(c.ps, entities, req)
}

// Outcome is Decide's answer in the form every engine is compared in.
func (c *CedarSet) Outcome(r policy.Request) Outcome {
	ok, diag := c.Decide(r)
	var o Outcome
	o.Allow = ok == cedar.Allow
	for _, reason := range diag.Reasons {
		o.Policies = append(o.Policies, string(reason.PolicyID))
	}
	for _, e := range diag.Errors {
		o.Failed = append(o.Failed, string(e.PolicyID))
	}
	return o.sorted()
}

const ns = "SecureCart::"

// encodeCedar builds the request and the two entities Cedar reads: the
// principal, member of its roles, and the resource with the attributes
// the schema gives its type.
func encodeCedar(r *policy.Request) (cedar.EntityMap, cedar.Request) {
	principal := cedar.NewEntityUID(ns+"Principal", cedar.String(r.PrincipalID))
	roles := make([]cedar.EntityUID, len(r.Roles))
	for i, role := range r.Roles {
		roles[i] = cedar.NewEntityUID(ns+"Role", cedar.String(role))
	}
	resource := cedar.NewEntityUID(cedar.EntityType(ns+r.ResourceType), cedar.String(r.ResourceID))

	attrs := cedar.RecordMap{}
	switch r.ResourceType {
	case policy.TypeCustomer:
		attrs["owner"] = cedar.String(r.Owner)
		attrs["classification"] = cedar.String(r.Classification)
	case policy.TypeOrder:
		attrs["owner"] = cedar.String(r.Owner)
	case policy.TypeTransaction:
		attrs["order"] = cedar.String(r.Order)
	}
	entities := cedar.EntityMap{
		principal: {
			UID:     principal,
			Parents: cedar.NewEntityUIDSet(roles...),
			Attributes: cedar.NewRecord(cedar.RecordMap{
				"kind": cedar.String(r.PrincipalKind),
				"id":   cedar.String(r.PrincipalID),
			}),
		},
		resource: {UID: resource, Attributes: cedar.NewRecord(attrs)},
	}

	networks := make([]cedar.Value, len(r.Networks))
	for i, n := range r.Networks {
		networks[i] = cedar.String(n)
	}
	src := r.Source.Unmap()
	context := cedar.NewRecord(cedar.RecordMap{
		"sourceIp":     cedar.IPAddr(netip.PrefixFrom(src, src.BitLen())),
		"networks":     cedar.NewSet(networks...),
		"mfa":          cedar.Boolean(r.MFA),
		"mtls":         cedar.Boolean(r.MTLS),
		"mtlsIdentity": cedar.String(r.MTLSIdentity),
		"time":         cedar.Long(r.Time.Unix()),
	})
	return entities, cedar.Request{
		Principal: principal,
		Action:    cedar.NewEntityUID(ns+"Action", cedar.String(r.Action)),
		Resource:  resource,
		Context:   context,
	}
}
