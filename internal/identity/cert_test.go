package identity

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/tlsca"
)

func clientCert(t *testing.T, ca *tlsca.CA, principalID string) *x509.Certificate {
	t.Helper()
	certPEM, keyPEM, err := ca.IssueClient(principalID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	clear(keyPEM)
	block, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestPrincipalForCert(t *testing.T) {
	ca, err := tlsca.OpenCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	otherCA, err := tlsca.OpenCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		ctx := context.Background()
		d, _ := openDir(t, h)
		svc := mustPrincipal(t, d, "payments-gw", KindService, RolePaymentProvider)
		person := mustPrincipal(t, d, "frank", KindPerson, RoleAdmin)
		disabled := mustPrincipal(t, d, "old-svc", KindService, RoleAppService)
		if err := d.DisablePrincipal(ctx, disabled.ID); err != nil {
			t.Fatal(err)
		}
		absent, _ := newPrincipalID()

		p, err := d.PrincipalForCert(ctx, clientCert(t, ca, svc.ID), ca)
		if err != nil {
			t.Fatal(err)
		}
		if p.ID != svc.ID || !p.HasRole(RolePaymentProvider) {
			t.Errorf("certificate mapped to %+v, want %s", p, svc.ID)
		}

		failures := []struct {
			name string
			cert *x509.Certificate
			ca   *tlsca.CA
		}{
			{"person", clientCert(t, ca, person.ID), ca},
			{"disabled service", clientCert(t, ca, disabled.ID), ca},
			{"unknown principal", clientCert(t, ca, absent), ca},
			{"not a principal id", clientCert(t, ca, "payments-gw"), ca},
			{"other CA", clientCert(t, otherCA, svc.ID), ca},
			{"no certificate", nil, ca},
			{"no CA", clientCert(t, ca, svc.ID), nil},
		}
		for _, tt := range failures {
			t.Run(tt.name, func(t *testing.T) {
				if p, err := d.PrincipalForCert(ctx, tt.cert, tt.ca); err != ErrUnauthenticated || p != nil {
					t.Errorf("got %v, %v; want ErrUnauthenticated", p, err)
				}
			})
		}
	})
}
