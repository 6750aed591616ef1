package policy

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

func equalDecisions(a, b Decision) bool {
	return a.Allow == b.Allow && slices.Equal(a.Policies, b.Policies) &&
		slices.Equal(a.Errors, b.Errors)
}

// TestConditions compares, condition by condition, what the index makes
// of a policy's conditions with what Cedar makes of them, and checks which
// conditions the index decides without Cedar.
func TestConditions(t *testing.T) {
	tests := []struct {
		cond  string
		known bool // decided by the index on the first request below
	}{
		{`when { context.mfa }`, true},
		{`when { !context.mtls }`, true},
		{`when { "service" == principal.kind && context.mfa }`, true},
		{`when { principal.kind != "customer" || context.mfa }`, true},
		{`unless { context.networks.contains("office") }`, true},
		{`when { principal.id == "p" && context.mtlsIdentity != "" }`, true},
		{`when { 5 < context.time && context.time <= 1767268800 }`, true},
		{`when { context.time >= 1767268800 && 1767268801 > context.time }`, true},
		{`when { context.time == 1767268800 }`, true},
		{`when { context.time != 1767268800 }`, true},
		{`when { context.time < 1767268800 }`, true},
		{`when { resource has owner && resource.owner == principal.id }`, true},
		{`when { resource has classification && resource.classification == "pii" }`, true},
		{`when { resource has order && resource.order == "o-1" }`, true},
		{`when { principal has kind && context has mfa }`, true},
		{`when { principal.id like "p*" }`, true},
		{`when { context.mtlsIdentity like "psp-*" }`, true},
		{`when { context.sourceIp.isInRange(ip("10.0.0.0/8")) }`, true},
		{`when { context.sourceIp.isInRange(ip("2001:db8::/32")) }`, true},
		{`when { principal in SecureCart::Role::"dba" }`, true},
		{`when { principal in [SecureCart::Role::"admin", SecureCart::Role::"dba"] }`, true},
		{`when { action in [SecureCart::Action::"readLogs", SecureCart::Action::"readCustomer"] }`, true},
		{`when { action == SecureCart::Action::"readCustomer" }`, true},
		{`when { resource is SecureCart::Customer }`, true},
		{`when { resource == SecureCart::Customer::"c-1" }`, true},
		{`when { principal is SecureCart::Principal }`, true},
		{`when { true } unless { false }`, true},
		{`unless { context.mfa }`, true},
		{`unless { !context.mtls }`, true},
		{`when { !!context.mfa }`, true},
		{`when { context.networks.contains("payment") && context.mfa }`, true},
		{`unless { principal.kind == "person" }`, true},
		{`when { context.mfa && context.time * 10000000000 > 0 }`, false},
		{`when { context.time * 2 > 0 || context.mfa }`, false},
		{`when { context.networks.containsAny(["payment"]) }`, false},
		{`when { if context.mfa then true else false }`, false},
		{`when { context.sourceIp.isIpv4() }`, false},
	}

	base := to(withMFA(person("p", RoleDBA)), ReadCustomer, "c-1")
	reqs := []Request{base, to(person("p"), ReadCustomer, "p")}
	for _, r := range []Request{
		on(person("q", RoleAdmin), "office", NetworkPayment),
		overMTLS(service("psp", RolePaymentProvider), "psp-1"),
		shopper("c-1"),
		withMFA(shopper("p")),
	} {
		for _, action := range []string{ReadCustomer, ReadOrder, ReadProduct, ReadTransaction, ReadLogs} {
			reqs = append(reqs, to(r, action, "c-1"))
		}
	}
	for i, src := range []string{"192.0.2.1", "::ffff:10.1.2.3", "2001:db8::7", "10.9.9.9"} {
		r := base
		r.Source = netip.MustParseAddr(src)
		r.Time = testTime.Add(time.Duration(i-1) * time.Second)
		reqs = append(reqs, r)
	}

	for _, tt := range tests {
		e, err := New([]byte(`@id("a") permit (principal, action, resource) ` + tt.cond + ";"))
		if err != nil {
			t.Fatalf("%s: %v", tt.cond, err)
		}
		q, _ := newQuery(e.model, &base)
		if known := e.index.byRank[0].cond(q) != unknown; known != tt.known {
			t.Errorf("%s: decided by the index %v, want %v", tt.cond, known, tt.known)
		}
		for _, r := range reqs {
			if got, want := e.Decide(r), e.decideUnindexed(r); !equalDecisions(got, want) {
				t.Errorf("%s on %+v:\n indexed %+v\n   cedar %+v", tt.cond, r, got, want)
			}
		}
	}
}

func TestLeads(t *testing.T) {
	tests := []struct {
		cond string
		want lead // the zero lead for none
	}{
		{`when { principal.kind == "service" && context.mfa }`, lead{leadKind, "service"}},
		{`when { context.mfa }`, lead{leadMFA, "true"}},
		{`when { !context.mfa || context.mtls }`, lead{}},
		{`when { !context.mtls && context.mfa }`, lead{leadMTLS, "false"}},
		{`unless { context.mtls }`, lead{leadMTLS, "false"}},
		{`unless { !context.mfa }`, lead{leadMFA, "true"}},
		{`unless { context.mfa && context.mtls }`, lead{}},
		{`when { context.networks.contains("payment") }`, lead{leadNetwork, "payment"}},
		{`unless { context.networks.contains("payment") }`, lead{}},
		{`unless { principal.kind == "person" }`, lead{}},
		{`when { principal.kind != "person" }`, lead{}},
		{`when { "person" == principal.kind }`, lead{}},
		{`when { context.time > 0 && context.mfa }`, lead{}},
		{`when { !!context.mfa }`, lead{}},
	}
	for _, tt := range tests {
		e, err := New([]byte(`@id("a") permit (principal, action, resource) ` + tt.cond + ";"))
		if err != nil {
			t.Fatal(err)
		}
		if got := e.index.byRank[0].lead; got != tt.want {
			t.Errorf("%s: lead %v, want %v", tt.cond, got, tt.want)
		}
	}
}
