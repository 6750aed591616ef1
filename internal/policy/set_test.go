package policy

import (
	"slices"
	"strings"
	"testing"
)

func TestLoadResourcePolicies(t *testing.T) {
	tests := []struct {
		name, src, err string
	}{
		{"attached forbid", `@id("a") @resource("audit")
forbid (principal, action, resource == SecureCart::Collection::"audit") unless { context.mtls };`, ""},
		{"permit", `@id("a") @resource("audit")
permit (principal, action, resource == SecureCart::Collection::"audit");`, "must be a forbid"},
		{"unknown collection", `@id("a") @resource("vault")
forbid (principal, action, resource == SecureCart::Collection::"payments");`, "not a collection"},
		{"scope of another collection", `@id("a") @resource("audit")
forbid (principal, action, resource == SecureCart::Collection::"logs");`, "must have the scope"},
		{"unscoped", `@id("a") @resource("audit")
forbid (principal, action, resource);`, "must have the scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load([]byte(tt.src))
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.Policies[0].Attached != "audit" {
					t.Fatalf("attached %q", s.Policies[0].Attached)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "line 1, column 1") {
				t.Fatalf("error %v, want %q with its position", err, tt.err)
			}
		})
	}
}

func TestLoadDescribesPolicies(t *testing.T) {
	s, err := Load([]byte(`@id("x")
permit (principal in SecureCart::Role::"dba", action in [SecureCart::Action::"readCustomer", SecureCart::Action::"readPII"], resource)
when { context.networks.containsAny(["office", "application"]) || principal in SecureCart::Role::"auditor" };

@id("y")
forbid (principal, action, resource) when { context.networks.contains("vpn") };`))
	if err != nil {
		t.Fatal(err)
	}
	x, y := s.Policies[0], s.Policies[1]
	if x.Forbid || x.AnyPrincipal || x.AnyAction || !x.AnyResource || x.Conditions != 1 || x.Line != 1 {
		t.Errorf("x %+v", x)
	}
	if !slices.Equal(x.Actions, []string{ReadCustomer, ReadPII}) ||
		!slices.Equal(x.Roles, []string{"auditor", RoleDBA}) ||
		!slices.Equal(x.Networks, []string{"application", "office"}) {
		t.Errorf("x actions %v roles %v networks %v", x.Actions, x.Roles, x.Networks)
	}
	if !y.Forbid || !y.AnyPrincipal || !y.AnyAction || !slices.Equal(y.Networks, []string{"vpn"}) || y.Line != 5 {
		t.Errorf("y %+v", y)
	}
}

func TestLoadRefusesInvalid(t *testing.T) {
	for _, src := range []string{
		`@id("a") permit (principal, action, resource) when { context.nope };`,
		`@id("a") permit (principal, action, resource) when { context.mfa && };`,
		`permit (principal, action, resource);`,
	} {
		if _, err := Load([]byte(src)); err == nil {
			t.Errorf("accepted %s", src)
		}
	}
}

// FuzzLoad feeds Load arbitrary text: it must never panic, and a set it
// accepts must describe every policy with its @id and position.
func FuzzLoad(f *testing.F) {
	f.Add(DefaultPolicies())
	f.Add([]byte(`@id("a") @resource("audit") forbid (principal, action, resource == SecureCart::Collection::"audit");`))
	f.Add([]byte(`@id("a") permit (principal, action, resource) when { context.networks.containsAny(["x"]) };`))
	f.Add([]byte(`@id("a") permit (principal in SecureCart::Role::"r\"q", action, resource);`))
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Load(src)
		if err != nil {
			return
		}
		for _, p := range s.Policies {
			if p.ID == "" || p.Line < 1 || p.Column < 1 || p.Text == "" {
				t.Fatalf("policy described as %+v", p)
			}
		}
	})
}
