package demo

import (
	"context"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/identity"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/tlsca"
)

// TestPrincipalsSignIn checks that the demo's dba can sign in with the
// credentials the tour prints, and that the other people cannot.
func TestPrincipalsSignIn(t *testing.T) {
	ctx := context.Background()
	d, err := identity.Open(ctx, sqldbtest.Engines()[0].Open(t).DB)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := tlsca.OpenCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	roles, err := Principals(ctx, d, ca, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dba := roles["dba"]
	if len(dba.RecoveryCodes) == 0 || dba.TOTPSecret == "" {
		t.Fatalf("dba credentials %+v", dba)
	}
	c := Credentials{Roles: roles, BaseURL: "https://127.0.0.1:8443", CAFile: "ca.pem"}
	_, s, err := d.SignIn(ctx, identity.SignIn{Name: dba.Name, Password: dba.Password,
		Code: dba.RecoveryCodes[len(dba.RecoveryCodes)-1]})
	if err != nil || s.PrincipalID != dba.Principal {
		t.Fatalf("sign in with the tour's code: %v", err)
	}
	if tour := c.Tour(); !strings.Contains(tour, "securecart signin") {
		t.Fatalf("tour:\n%s", tour)
	}
	for _, role := range []string{"developer", "security"} {
		if roles[role].Password != "" {
			t.Errorf("%s has a password in the credentials file", role)
		}
	}
}
