package analyze

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/policy"
)

func TestExercised(t *testing.T) {
	set := defaultSet(t)
	m, err := Build(set, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	uses := []Use{
		// A dba reads a customer with PII in clear (request, then outcome).
		{Roles: []string{policy.RoleDBA}, Action: policy.ReadCustomer, ResourceType: policy.TypeCustomer,
			ResourceID: "cus_1", Policies: []string{"dba-rows"}},
		{Roles: []string{policy.RoleDBA}, Action: policy.ReadCustomer, ResourceType: policy.TypeCustomer,
			ResourceID: "cus_1", Policies: []string{"dba-rows"}, Fields: []string{"customers.email"}},
		// The provider detokenizes: the record names the token.
		{Roles: []string{policy.RolePaymentProvider}, Action: policy.Detokenize, ResourceType: "CardToken",
			ResourceID: "tok_1", Policies: []string{"payment-provider-cards"}},
		// Someone with two roles reads the audit trail: only the role the
		// deciding policy names is credited.
		{Roles: []string{policy.RoleDeveloper, policy.RoleSecurity}, Action: policy.ReadLogs,
			ResourceType: policy.TypeCollection, ResourceID: "logs", Policies: []string{"security-read"}},
		// No deciding policy names a role: every holder is credited.
		{Roles: []string{policy.RoleDeveloper, policy.RoleSecurity}, Action: policy.ReadProduct,
			ResourceType: policy.TypeProduct, ResourceID: "prd_1", Policies: []string{"catalogue-public-read"}},
	}
	u := Exercised(set, m, slices.Values(uses))
	if u.Uses != len(uses) || len(u.Grants) == 0 || len(u.Unused) != len(u.Grants)-6 {
		t.Fatalf("%d uses, %d grants, %d unused", u.Uses, len(u.Grants), len(u.Unused))
	}
	for _, g := range []Grant{
		{policy.RoleDBA, policy.ReadCustomer, policy.TypeCustomer},
		{policy.RoleDBA, policy.ReadPII, policy.TypeCustomer},
		{policy.RolePaymentProvider, policy.Detokenize, "Collection::payments"},
		{policy.RoleSecurity, policy.ReadLogs, "Collection::logs"},
		{policy.RoleSecurity, policy.ReadProduct, policy.TypeProduct},
		{policy.RoleDeveloper, policy.ReadProduct, policy.TypeProduct},
	} {
		if !slices.Contains(u.Grants, g) {
			t.Fatalf("%v is not a grant of the default set", g)
		}
		if slices.Contains(u.Unused, g) {
			t.Errorf("%v exercised but listed unused", g)
		}
	}
	for _, g := range []Grant{
		{policy.RoleDeveloper, policy.ReadLogs, "Collection::logs"},
		{policy.RoleDeveloper, policy.ReadCustomer, policy.TypeCustomer},
		{policy.RoleSecurity, policy.ReadAudit, "Collection::audit"},
	} {
		if !slices.Contains(u.Unused, g) {
			t.Errorf("%v not exercised but not listed unused", g)
		}
	}
	if !slices.IsSortedFunc(u.Unused, compareGrants) {
		t.Error("unused grants not sorted")
	}

	var b bytes.Buffer
	if err := WriteUnused(&b, u); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	head := fmt.Sprintf("%d of %d grants unused (%d records of allowed requests read)", len(u.Unused), len(u.Grants), len(uses))
	if lines[0] != head || !slices.ContainsFunc(lines, func(l string) bool {
		return strings.Join(strings.Fields(l), " ") == "security readAudit Collection::audit"
	}) || len(lines) != len(u.Unused)+4 {
		t.Errorf("table:\n%s", b.String())
	}

	// Nothing read: every grant is unused.
	if none := Exercised(set, m, slices.Values([]Use(nil))); len(none.Unused) != len(none.Grants) {
		t.Errorf("an empty trail leaves %d of %d grants unused", len(none.Unused), len(none.Grants))
	}
}
