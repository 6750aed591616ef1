package policy

import (
	"slices"
	"testing"
)

var public = []string{ReadProduct, ListProducts}

func plus(base []string, more ...string) []string {
	return append(slices.Clone(base), more...)
}

// TestRoleMatrix puts every action of the schema to every role of the
// default policies, in the contexts that change their answer.
func TestRoleMatrix(t *testing.T) {
	developer := plus(public, ReadCustomer, ListCustomers, LookupCustomer,
		ReadOrder, ListOrders, ReadLogs, ReadMetrics)
	security := plus(public, ReadAudit, ReadLogs, ReadPolicies, ReadFindings,
		ReadKeyMetadata, RunAnalyzer)
	dba := plus(public, CreateCustomer, ReadCustomer, UpdateCustomer, ListCustomers,
		LookupCustomer, CreateOrder, ReadOrder, ListOrders, UpdateOrderStatus,
		CreateProduct, UpdateProduct, DeleteProduct, ManageBackups)
	app := []string{CreateCustomer, ReadCustomer, UpdateCustomer, LookupCustomer,
		ReadPII, IssueCustomerToken, CreateOrder, ReadOrder, ListOrders,
		UpdateOrderStatus, ReadProduct, ListProducts, Tokenize, DeleteCardToken}
	own := plus(public, ReadCustomer, UpdateCustomer, ExportCustomer, EraseCustomer,
		ReadPII, ReadOrder, ListOrders)
	admin := plus(public, ManageKeys, ReadKeyMetadata, ManagePrincipals,
		ManagePolicies, ReadPolicies, RunAnalyzer)
	psp := service("psp", RolePaymentProvider)

	tests := []struct {
		name  string
		who   Request
		owner string
		allow []string
	}{
		{"developer", person("dev", RoleDeveloper), "c-1", developer},
		{"developer with mfa", withMFA(person("dev", RoleDeveloper)), "c-1", developer},
		{"security", person("sec", RoleSecurity), "c-1", security},
		{"security with mfa", withMFA(person("sec", RoleSecurity)), "c-1",
			plus(security, ManagePolicies)},
		{"dba", person("dba", RoleDBA), "c-1", dba},
		{"dba with mfa", withMFA(person("dba", RoleDBA)), "c-1",
			plus(dba, ReadPII, ExportCustomer, EraseCustomer, DeleteCardToken)},
		{"app-service", service("app", RoleAppService), "c-1", app},
		{"app-service with mtls", overMTLS(service("app", RoleAppService), "app"), "c-1", app},
		{"app-service off its network", on(service("app", RoleAppService), "office"), "c-1", nil},
		{"app-service on no network", on(service("app", RoleAppService)), "c-1", nil},
		{"payment-provider", overMTLS(on(psp, NetworkPayment), "psp"), "c-1",
			plus(public, ReadTransaction, Detokenize)},
		{"payment-provider without mtls", on(psp, NetworkPayment), "c-1", nil},
		{"payment-provider off its network", overMTLS(psp, "psp"), "c-1", nil},
		{"customer, own rows", shopper("c-1"), "c-1", own},
		{"customer, another's rows", shopper("c-1"), "c-2", public},
		{"customer, every owner's rows", shopper("c-1"), "", public},
		{"admin with mfa", withMFA(person("adm", RoleAdmin)), "c-1", admin},
		{"admin without mfa", person("adm", RoleAdmin), "c-1", public},
		{"bootstrap admin service", service("boot", RoleAdmin), "c-1", admin},
		{"person without roles", withMFA(person("nobody")), "c-1", public},
		{"unknown role", person("x", "superuser"), "c-1", public},
	}

	e := mustDefault(t)
	for _, tt := range tests {
		for _, action := range Actions() {
			d := e.Decide(to(tt.who, action, tt.owner))
			if want := slices.Contains(tt.allow, action); d.Allow != want {
				t.Errorf("%s: %s: allow = %v, want %v (policies %v, errors %v)",
					tt.name, action, d.Allow, want, d.Policies, d.Errors)
			}
			if len(d.Errors) > 0 {
				t.Errorf("%s: %s: errors %v", tt.name, action, d.Errors)
			}
		}
	}
}

// TestDeterminingPolicies checks which policies a decision names, and that
// a forbid beats every permit.
func TestDeterminingPolicies(t *testing.T) {
	psp := overMTLS(on(service("psp", RolePaymentProvider), NetworkPayment), "psp")

	tests := []struct {
		name  string
		req   Request
		allow bool
		want  []string
	}{
		{"one permit", to(person("dev", RoleDeveloper), ReadCustomer, "c-1"),
			true, []string{"developer-read"}},
		{"two permits", to(service("app", RoleAppService), ReadProduct, ""),
			true, []string{"app-service-use", "catalogue-public-read"}},
		{"nothing matches", to(person("dev", RoleDeveloper), ReadPII, "c-1"), false, nil},
		{"dba forbid beats security permit",
			to(withMFA(person("x", RoleSecurity, RoleDBA)), ManagePolicies, ""),
			false, []string{"dba-never-cards-policies-keys"}},
		{"dba forbid beats admin permit",
			to(withMFA(person("x", RoleAdmin, RoleDBA)), ManageKeys, ""),
			false, []string{"dba-never-cards-policies-keys"}},
		{"dba forbid beats payment-provider permit",
			to(func() Request { r := psp; r.Roles = append(r.Roles, RoleDBA); return r }(),
				Detokenize, ""),
			false, []string{"dba-never-cards-policies-keys"}},
		{"network forbid beats developer permit",
			to(on(service("x", RoleAppService, RoleDeveloper), "office"), ReadCustomer, "c-1"),
			false, []string{"app-service-application-network"}},
		{"network forbid beats public read",
			to(on(service("app", RoleAppService), "office"), ReadProduct, ""),
			false, []string{"app-service-application-network"}},
		{"app-service never admin",
			to(service("x", RoleAppService, RoleAdmin), ManageKeys, ""),
			false, []string{"app-service-never-detokenize-or-admin"}},
		{"app-service never detokenizes",
			to(overMTLS(on(service("x", RoleAppService, RolePaymentProvider),
				NetworkApplication, NetworkPayment), "x"), Detokenize, ""),
			false, []string{"app-service-never-detokenize-or-admin"}},
		{"payment-provider never reads customers",
			to(func() Request { r := psp; r.Roles = append(r.Roles, RoleDeveloper); return r }(),
				ReadCustomer, "c-1"),
			false, []string{"payment-provider-no-customers"}},
		{"payment-provider held to mtls",
			to(on(service("x", RolePaymentProvider, RoleDeveloper), NetworkPayment), ReadLogs, ""),
			false, []string{"payment-provider-mtls-payment-network"}},
		{"customer role cannot reach another customer",
			to(func() Request { r := shopper("c-1"); r.Roles = []string{RoleDBA}; return r }(),
				ReadCustomer, "c-2"),
			false, []string{"customer-not-others-rows"}},
		{"customer role cannot administer",
			to(func() Request { r := shopper("c-1"); r.Roles = []string{RoleAdmin}; return r }(),
				ManageKeys, ""),
			false, []string{"customer-only-customer-actions"}},
		{"customer lists only its own orders",
			to(shopper("c-1"), ListOrders, ""),
			false, []string{"customer-not-others-rows"}},
	}

	e := mustDefault(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.Decide(tt.req)
			if d.Allow != tt.allow || !slices.Equal(d.Policies, tt.want) || d.Errors != nil {
				t.Errorf("got %+v, want allow %v by %v", d, tt.allow, tt.want)
			}
		})
	}
}

func mustDefault(t testing.TB) *Engine {
	t.Helper()
	e, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return e
}
