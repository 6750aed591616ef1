package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/crypto/acme"

	"github.com/securecart/securecart/internal/tlsca"
)

func TestTLSSetup(t *testing.T) {
	ca, err := tlsca.OpenCA(filepath.Join(t.TempDir(), "tls"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	plain := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })

	cfg, wrap, stop, err := tlsSetup(ctx, ca, Listener{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if slices.Contains(cfg.NextProtos, acme.ALPNProto) {
		t.Error("the local CA's configuration offers the ACME challenge protocol")
	}
	rec := httptest.NewRecorder()
	wrap(plain).ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/acme-challenge/x", nil))
	if rec.Code != http.StatusTeapot {
		t.Errorf("without ACME the redirect handler is wrapped: %d", rec.Code)
	}

	l := Listener{ACMEHosts: []string{"shop.example.com"}, ACMECacheDir: t.TempDir()}
	cfg, wrap, _, err = tlsSetup(ctx, ca, l, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cfg.NextProtos, acme.ALPNProto) || cfg.MinVersion != tlsca.ServerConfig(nil, nil).MinVersion {
		t.Errorf("ACME configuration: protocols %v, minimum version %x", cfg.NextProtos, cfg.MinVersion)
	}
	rec = httptest.NewRecorder()
	wrap(plain).ServeHTTP(rec, httptest.NewRequest("GET", "http://shop.example.com/.well-known/acme-challenge/x", nil))
	if rec.Code == http.StatusTeapot {
		t.Error("HTTP-01 challenges do not reach the ACME manager")
	}

	for name, bad := range map[string]Listener{
		"with a certificate file": {ACMEHosts: l.ACMEHosts, ACMECacheDir: l.ACMECacheDir, CertFile: "c.pem", KeyFile: "k.pem"},
		"without a cache":         {ACMEHosts: l.ACMEHosts},
	} {
		if _, _, _, err := tlsSetup(ctx, ca, bad, nil); err == nil {
			t.Errorf("ACME %s was accepted", name)
		}
	}
}
