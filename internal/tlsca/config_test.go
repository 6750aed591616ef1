package tlsca

import (
	"context"
	"crypto/tls"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// serverConfig is the configuration under test, with a certificate from the
// shared CA.
func serverConfig(t *testing.T) (*CA, *tls.Config) {
	t.Helper()
	ca := sharedCA(t)
	sc, err := NewServerCerts(context.Background(), ca, ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.Close() })
	return ca, ServerConfig(sc.GetCertificate, ca.Pool())
}

func TestServerConfigVersionsAndSuites(t *testing.T) {
	ca, cfg := serverConfig(t)
	tests := []struct {
		name        string
		client      *tls.Config
		wantVersion uint16
		refusal     string // if set, the server's error must contain it
	}{
		{"TLS 1.3", &tls.Config{}, tls.VersionTLS13, ""},
		{"TLS 1.3 X25519 only", &tls.Config{CurvePreferences: []tls.CurveID{tls.X25519}}, tls.VersionTLS13, ""},
		{"TLS 1.3 P-256 only", &tls.Config{CurvePreferences: []tls.CurveID{tls.CurveP256}}, tls.VersionTLS13, ""},
		{"TLS 1.2", &tls.Config{MaxVersion: tls.VersionTLS12}, tls.VersionTLS12, ""},
		{"TLS 1.2 AES-256-GCM", &tls.Config{
			MaxVersion:   tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384},
		}, tls.VersionTLS12, ""},
		{"TLS 1.2 ChaCha20-Poly1305", &tls.Config{
			MaxVersion:   tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256},
		}, tls.VersionTLS12, ""},
		{"TLS 1.2 P-256 only", &tls.Config{
			MaxVersion:       tls.VersionTLS12,
			CurvePreferences: []tls.CurveID{tls.CurveP256},
		}, tls.VersionTLS12, ""},
		{"TLS 1.1", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, 0, "unsupported versions"},
		{"TLS 1.0", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}, 0, "unsupported versions"},
		{"TLS 1.2 CBC only", &tls.Config{
			MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{
				tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
				tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
				tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
			},
		}, 0, "no cipher suite"},
		{"TLS 1.2 CBC-SHA256 only", &tls.Config{
			MaxVersion:   tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256},
		}, 0, "no cipher suite"},
		{"TLS 1.2 RSA key exchange only", &tls.Config{
			MaxVersion:   tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384},
		}, 0, "no cipher suite"},
		{"P-384 only", &tls.Config{CurvePreferences: []tls.CurveID{tls.CurveP384}}, 0, "no key exchanges"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := tt.client.Clone()
			client.RootCAs = ca.Pool()
			client.ServerName = "localhost"
			res := handshake(t, cfg, client)

			if tt.refusal != "" {
				if res.serverErr == nil || res.clientErr == nil {
					t.Fatalf("handshake succeeded (server %v, client %v)", res.serverErr, res.clientErr)
				}
				if !strings.Contains(res.serverErr.Error(), tt.refusal) {
					t.Fatalf("refused with %q, want %q", res.serverErr, tt.refusal)
				}
				return
			}
			if res.serverErr != nil || res.clientErr != nil {
				t.Fatalf("handshake failed: server %v, client %v", res.serverErr, res.clientErr)
			}
			if res.state.Version != tt.wantVersion {
				t.Errorf("version %s, want %s", tls.VersionName(res.state.Version), tls.VersionName(tt.wantVersion))
			}
			name := tls.CipherSuiteName(res.state.CipherSuite)
			if !strings.Contains(name, "GCM") && !strings.Contains(name, "CHACHA20") {
				t.Errorf("cipher suite %s is not AEAD", name)
			}
		})
	}
}

func TestServerConfigPrefersHybridKeyExchange(t *testing.T) {
	ca, cfg := serverConfig(t)
	res := handshake(t, cfg, &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"})
	if res.serverErr != nil || res.clientErr != nil {
		t.Fatalf("handshake failed: server %v, client %v", res.serverErr, res.clientErr)
	}
	if res.state.CurveID != tls.X25519MLKEM768 {
		t.Errorf("key exchange %v, want X25519MLKEM768", res.state.CurveID)
	}
}

func TestServerConfigClientCertificates(t *testing.T) {
	ca, cfg := serverConfig(t)
	other, err := OpenCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	clientCert := func(c *CA, id string) []tls.Certificate {
		certPEM, keyPEM, err := c.IssueClient(id, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		return []tls.Certificate{pair}
	}
	serverLeaf, err := ca.IssueServer(nil, 0)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		certs     []tls.Certificate
		ok        bool
		principal string
	}{
		{"no certificate", nil, true, ""},
		{"issued by the CA", clientCert(ca, "svc-payments"), true, "svc-payments"},
		{"issued by another CA", clientCert(other, "svc-payments"), false, ""},
		{"server certificate as client", []tls.Certificate{*serverLeaf}, false, ""},
	}
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		for _, tt := range tests {
			t.Run(tls.VersionName(version)+"/"+tt.name, func(t *testing.T) {
				res := handshake(t, cfg, &tls.Config{
					RootCAs:      ca.Pool(),
					ServerName:   "localhost",
					Certificates: tt.certs,
					MaxVersion:   version,
				})
				if !tt.ok {
					if res.serverErr == nil {
						t.Fatal("server accepted the client certificate")
					}
					return
				}
				if res.serverErr != nil || res.clientErr != nil {
					t.Fatalf("handshake failed: server %v, client %v", res.serverErr, res.clientErr)
				}
				var got string
				if peers := res.state.PeerCertificates; len(peers) > 0 {
					got, _ = ca.PrincipalFromCert(peers[0])
				}
				if got != tt.principal {
					t.Errorf("principal %q, want %q", got, tt.principal)
				}
			})
		}
	}
}

func TestServerConfigFields(t *testing.T) {
	cfg := ServerConfig(nil, nil)
	if cfg.MinVersion != tls.VersionTLS12 || cfg.ClientAuth != tls.VerifyClientCertIfGiven {
		t.Errorf("MinVersion %x, ClientAuth %v", cfg.MinVersion, cfg.ClientAuth)
	}
	for _, id := range cfg.CipherSuites {
		name := tls.CipherSuiteName(id)
		if !strings.HasPrefix(name, "TLS_ECDHE_") || strings.Contains(name, "CBC") {
			t.Errorf("cipher suite %s allowed", name)
		}
	}
	if slices.Contains(cfg.CurvePreferences, tls.CurveP384) || !slices.Contains(cfg.CurvePreferences, tls.X25519) {
		t.Errorf("curves %v", cfg.CurvePreferences)
	}
}

func TestACMEManager(t *testing.T) {
	dir := t.TempDir()
	m := ACMEManager([]string{"shop.example"}, dir, "ops@shop.example")

	if m.Email != "ops@shop.example" || !m.Prompt("https://tos.example") {
		t.Errorf("email %q, or the terms of service are not accepted", m.Email)
	}
	if cache, ok := m.Cache.(autocert.DirCache); !ok || string(cache) != dir {
		t.Errorf("cache %#v, want DirCache(%q)", m.Cache, dir)
	}
	ctx := context.Background()
	if err := m.HostPolicy(ctx, "shop.example"); err != nil {
		t.Errorf("host policy refuses shop.example: %v", err)
	}
	if err := m.HostPolicy(ctx, "evil.example"); err == nil {
		t.Error("host policy accepts evil.example")
	}

	cfg := ACMEServerConfig(m, nil)
	if !slices.Contains(cfg.NextProtos, acme.ALPNProto) ||
		cfg.MinVersion != tls.VersionTLS12 || cfg.GetCertificate == nil {
		t.Errorf("ACME config: NextProtos %q, MinVersion %x", cfg.NextProtos, cfg.MinVersion)
	}
}
