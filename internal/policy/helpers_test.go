package policy

import (
	"net/netip"
	"time"
)

var testTime = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func person(id string, roles ...string) Request {
	return Request{
		PrincipalID:   id,
		PrincipalKind: KindPerson,
		Roles:         roles,
		Source:        netip.MustParseAddr("10.20.0.7"),
		Networks:      []string{"office"},
		Time:          testTime,
	}
}

func service(id string, roles ...string) Request {
	r := person(id, roles...)
	r.PrincipalKind = KindService
	r.Source = netip.MustParseAddr("10.1.0.3")
	r.Networks = []string{NetworkApplication}
	return r
}

func shopper(id string) Request {
	r := service(id)
	r.PrincipalKind = KindCustomer
	return r
}

func withMFA(r Request) Request {
	r.MFA = true
	return r
}

func on(r Request, networks ...string) Request {
	r.Networks = networks
	return r
}

func overMTLS(r Request, identity string) Request {
	r.MTLS = true
	r.MTLSIdentity = identity
	return r
}

// collectionOf names the Collection each non-row action works on.
var collectionOf = map[string]string{
	Tokenize:         "payments",
	Detokenize:       "payments",
	DeleteCardToken:  "payments",
	ReadLogs:         "logs",
	ReadMetrics:      "metrics",
	ReadAudit:        "audit",
	ReadFindings:     "findings",
	ReadPolicies:     "policies",
	ManagePolicies:   "policies",
	RunAnalyzer:      "policies",
	ReadKeyMetadata:  "keys",
	ManageKeys:       "keys",
	ManagePrincipals: "principals",
	ManageBackups:    "backups",
}

// to makes who's request for action on a representative resource of the
// action's type; customers and orders belong to owner.
func to(who Request, action, owner string) Request {
	r := who
	r.Action = action
	r.ResourceType = ResourceTypes(action)[0]
	switch r.ResourceType {
	case TypeCustomer:
		r.ResourceID, r.Owner, r.Classification = owner, owner, "pii"
	case TypeOrder:
		r.ResourceID, r.Owner = "o-1", owner
	case TypeProduct:
		r.ResourceID = "sku-1"
	case TypeTransaction:
		r.ResourceID, r.Order = "t-1", "o-1"
	case TypeCollection:
		r.ResourceID = collectionOf[action]
	}
	return r
}
