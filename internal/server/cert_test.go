package server_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/client"
	"github.com/securecart/securecart/internal/identity"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/server"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/tlsca"
)

// TestServiceCertificateRenewal has an admin issue a service its first
// certificate, then lets the service renew it by itself over mTLS, with
// its static keys disabled.
func TestServiceCertificateRenewal(t *testing.T) {
	ctx := context.Background()
	h, s, pe := openStore(t, sqldbtest.Engines()[0], keys.Config{})
	dir, err := identity.Open(ctx, h.DB)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	ca, err := tlsca.OpenCA(filepath.Join(tmp, "ca"))
	if err != nil {
		t.Fatal(err)
	}
	svc, _ := dir.CreatePrincipal(ctx, "storefront", identity.KindService, []identity.Role{identity.RoleAppService})
	svcKey, _, _ := dir.CreateKey(ctx, svc.ID, 0)
	admin, _ := dir.CreatePrincipal(ctx, "ops", identity.KindService, []identity.Role{identity.RoleAdmin})
	adminKey, _, _ := dir.CreateKey(ctx, admin.ID, 0)

	api := server.New(server.Deps{Store: s, Policy: pe, Directory: dir, CA: ca,
		Identity: server.Directory{Dir: dir, CA: ca, NoServiceKeys: true},
		Networks: map[string][]netip.Prefix{policy.NetworkApplication: {netip.MustParsePrefix("127.0.0.0/8")}}})
	certs, err := tlsca.NewServerCerts(ctx, ca, tlsca.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { certs.Close() })
	srv := httptest.NewUnstartedServer(api)
	srv.TLS = tlsca.ServerConfig(certs.GetCertificate, ca.Pool())
	srv.StartTLS()
	t.Cleanup(srv.Close)
	url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	caFile := filepath.Join(tmp, "ca.pem")
	os.WriteFile(caFile, ca.CertPEM(), 0o600)

	// With service keys disabled, the storefront's key is refused; the
	// admin (also a service here) is too, so an admin person's session
	// would be used in production. The bootstrap path is tested elsewhere.
	kc, _ := client.New(url, svcKey.Reveal(), caFile)
	if err := kc.Do(ctx, "GET", "/v1/products", nil, nil); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("service key with keys disabled: %v", err)
	}

	// The first certificate comes from an admin.
	on := server.New(server.Deps{Store: s, Policy: pe, Directory: dir, CA: ca,
		Identity: server.Directory{Dir: dir, CA: ca}})
	first := httptest.NewUnstartedServer(on)
	first.TLS = tlsca.ServerConfig(certs.GetCertificate, ca.Pool())
	first.StartTLS()
	t.Cleanup(first.Close)
	ac, _ := client.New(strings.Replace(first.URL, "127.0.0.1", "localhost", 1), adminKey.Reveal(), caFile)
	var c client.Certificate
	if err := ac.Do(ctx, "POST", "/v1/principals/"+svc.ID+"/certificates", map[string]any{}, &c); err != nil {
		t.Fatal(err)
	}
	if got := time.Until(c.NotAfter); got < 23*time.Hour || got > 25*time.Hour {
		t.Fatalf("default lifetime: %v", got)
	}
	certFile, keyFile := filepath.Join(tmp, "svc.pem"), filepath.Join(tmp, "svc-key.pem")
	os.WriteFile(certFile, []byte(c.CertificatePEM), 0o600)
	os.WriteFile(keyFile, []byte(c.PrivateKeyPEM), 0o600)

	// The service calls with its certificate, and renews it itself.
	mc, err := client.NewWithCert(url, certFile, keyFile, caFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.Do(ctx, "GET", "/v1/products", nil, nil); err != nil {
		t.Fatalf("call with the certificate: %v", err)
	}
	now := time.Now()
	r := &client.Renewer{Client: mc, PrincipalID: svc.ID, CertFile: certFile, KeyFile: keyFile,
		Now: func() time.Time { return now }}
	if renewed, _, err := r.RenewIfDue(ctx); err != nil || renewed {
		t.Fatalf("renewed a fresh certificate: %v %v", renewed, err)
	}
	now = c.NotAfter.Add(-7 * time.Hour)
	renewed, notAfter, err := r.RenewIfDue(ctx)
	if err != nil || !renewed || notAfter.Before(c.NotAfter) {
		t.Fatalf("renewal: %v %v %v", renewed, notAfter, err)
	}
	b, _ := os.ReadFile(certFile)
	blk, _ := pem.Decode(b)
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil || !leaf.NotAfter.Equal(notAfter) || string(b) == c.CertificatePEM {
		t.Fatalf("certificate file not replaced: %v", err)
	}
	if fi, _ := os.Stat(keyFile); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", fi.Mode())
	}
	if err := mc.Do(ctx, "GET", "/v1/products", nil, nil); err != nil {
		t.Fatalf("call with the renewed certificate: %v", err)
	}
	// A service may renew only its own.
	if err := mc.Do(ctx, "POST", "/v1/principals/"+admin.ID+"/certificates", map[string]any{}, nil); err == nil {
		t.Fatal("a service got another principal's certificate")
	}
}
