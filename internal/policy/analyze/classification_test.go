package analyze

import (
	"testing"

	"github.com/securecart/securecart/internal/policy"
)

// TestMatrixUsesClassification checks that the matrix asks with the same
// classification as the API: a forbid on pii records takes the developer's
// customer reads away, and nothing else.
func TestMatrixUsesClassification(t *testing.T) {
	before, err := policy.Load(policy.DefaultPolicies())
	if err != nil {
		t.Fatal(err)
	}
	after, err := policy.Load(append(policy.DefaultPolicies(), []byte(`
@id("developer-not-pii-records")
forbid (principal in SecureCart::Role::"developer", action, resource)
when { resource has classification && resource.classification == "pii" };
`)...))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Compare(before, after)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Added) != 0 || len(d.Removed) == 0 {
		t.Fatalf("%d cells newly allowed, %d newly denied", len(d.Added), len(d.Removed))
	}
	for _, c := range d.Removed {
		if c.Role != policy.RoleDeveloper || c.Resource != policy.TypeCustomer {
			t.Errorf("newly denied %s", c)
		}
	}
}
