package tlsca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestIssueServer(t *testing.T) {
	ca := sharedCA(t)
	tests := []struct {
		name     string
		hosts    []string
		validity time.Duration
		wantDNS  []string
		wantIPs  []string
		wantLife time.Duration
	}{
		{"defaults", nil, 0, []string{"localhost"}, []string{"127.0.0.1", "::1"}, MaxServerValidity},
		{"capped", nil, 90 * 24 * time.Hour, []string{"localhost"}, []string{"127.0.0.1", "::1"}, MaxServerValidity},
		{"short", []string{"localhost"}, time.Hour, []string{"localhost"}, nil, time.Hour},
		{
			"names and addresses",
			[]string{"API.Shop.Example.", "*.shop.example", "10.0.0.5", "fd00::1"},
			7 * 24 * time.Hour,
			[]string{"api.shop.example", "*.shop.example"},
			[]string{"10.0.0.5", "fd00::1"},
			7 * 24 * time.Hour,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, err := ca.IssueServer(tt.hosts, tt.validity)
			if err != nil {
				t.Fatal(err)
			}
			leaf := cert.Leaf
			if got := leaf.NotAfter.Sub(leaf.NotBefore); got != tt.wantLife || got > MaxServerValidity {
				t.Errorf("validity %v, want %v", got, tt.wantLife)
			}
			if !slices.Equal(leaf.DNSNames, tt.wantDNS) {
				t.Errorf("DNS names %q, want %q", leaf.DNSNames, tt.wantDNS)
			}
			var ips []string
			for _, ip := range leaf.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(ips, tt.wantIPs) {
				t.Errorf("IP addresses %q, want %q", ips, tt.wantIPs)
			}
			checkServerLeaf(t, ca, leaf)
		})
	}
}

// checkServerLeaf checks what every server leaf must be and that it
// verifies for each of its names.
func checkServerLeaf(t *testing.T, ca *CA, leaf *x509.Certificate) {
	t.Helper()
	if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("leaf key %T, want ECDSA P-256", leaf.PublicKey)
	}
	if leaf.IsCA || leaf.SerialNumber.Sign() <= 0 || leaf.SerialNumber.BitLen() > 128 {
		t.Errorf("leaf IsCA %v, serial %x", leaf.IsCA, leaf.SerialNumber)
	}
	names := slices.Clone(leaf.DNSNames)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	for _, name := range names {
		name = strings.Replace(name, "*", "www", 1)
		_, err := leaf.Verify(x509.VerifyOptions{
			DNSName:     name,
			Roots:       ca.Pool(),
			CurrentTime: leaf.NotBefore.Add(time.Minute),
		})
		if err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
}

func TestIssueServerRejectsBadHosts(t *testing.T) {
	ca := sharedCA(t)
	bad := []string{
		"", "bad host", "-x.example", "x-.example", "a..b", "exa_mple.com",
		"bücher.example", "*", "a.*.example", "example.com:443",
	}
	for _, host := range bad {
		if _, err := ca.IssueServer([]string{"localhost", host}, 0); err == nil {
			t.Errorf("IssueServer accepted host %q", host)
		}
	}
}

func TestIssueServerSerialsDiffer(t *testing.T) {
	ca := sharedCA(t)
	a, err := ca.IssueServer(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ca.IssueServer(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.Leaf.SerialNumber.Cmp(b.Leaf.SerialNumber) == 0 {
		t.Error("two leaves share a serial number")
	}
}

func TestIssueClient(t *testing.T) {
	ca := sharedCA(t)
	certPEM, keyPEM, err := ca.IssueClient("svc-payments_1.eu", 0)
	if err != nil {
		t.Fatal(err)
	}
	cert := parseCertPEM(t, certPEM)
	key, err := decodeKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		t.Error("key does not match certificate")
	}
	if !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Errorf("extended key usage %v, want client auth only", cert.ExtKeyUsage)
	}
	if len(cert.URIs) != 1 || cert.URIs[0].String() != "securecart:principal:svc-payments_1.eu" {
		t.Errorf("URIs %v", cert.URIs)
	}
	if life := cert.NotAfter.Sub(cert.NotBefore); life != MaxClientValidity {
		t.Errorf("validity %v, want %v", life, MaxClientValidity)
	}

	for _, id := range []string{"", "a b", "svc:x", "svc/x", "ü", strings.Repeat("a", 129)} {
		if _, _, err := ca.IssueClient(id, time.Hour); err == nil {
			t.Errorf("IssueClient accepted id %q", id)
		}
	}
}

func TestPrincipalFromCert(t *testing.T) {
	ca := sharedCA(t)
	other, err := OpenCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	server, err := ca.IssueServer(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	issued := func(c *CA, id string) *x509.Certificate {
		certPEM, _, err := c.IssueClient(id, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return parseCertPEM(t, certPEM)
	}
	// crafted signs a client certificate of another shape with ca.
	crafted := func(cn string, uris []string, now time.Time) *x509.Certificate {
		template := &x509.Certificate{
			Subject:     pkix.Name{CommonName: cn},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
			KeyUsage:    x509.KeyUsageDigitalSignature,
		}
		for _, u := range uris {
			parsed, err := url.Parse(u)
			if err != nil {
				t.Fatal(err)
			}
			template.URIs = append(template.URIs, parsed)
		}
		der, _, err := ca.sign(template, time.Hour, now)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return cert
	}
	withIP := crafted("svc", []string{"securecart:principal:svc"}, time.Now())
	// A parsed field changed after verification stands for a SAN the
	// issuer would not have put there.
	withIP.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}

	tests := []struct {
		name string
		cert *x509.Certificate
		want string
	}{
		{"issued here", issued(ca, "svc-orders"), "svc-orders"},
		{"issued by another CA", issued(other, "svc-orders"), ""},
		{"server certificate", server.Leaf, ""},
		{"nil", nil, ""},
		{"expired", crafted("svc", []string{"securecart:principal:svc"}, time.Now().Add(-48*time.Hour)), ""},
		{"well-formed crafted", crafted("svc", []string{"securecart:principal:svc"}, time.Now()), "svc"},
		{"common name differs", crafted("admin", []string{"securecart:principal:svc"}, time.Now()), ""},
		{"two URIs", crafted("svc", []string{"securecart:principal:svc", "securecart:principal:x"}, time.Now()), ""},
		{"other scheme", crafted("svc", []string{"https://svc.example"}, time.Now()), ""},
		{"bad id", crafted("a/b", []string{"securecart:principal:a/b"}, time.Now()), ""},
		{"has an IP SAN", withIP, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ca.PrincipalFromCert(tt.cert)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("PrincipalFromCert = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func parseCertPEM(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("no PEM block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestCapValidity(t *testing.T) {
	tests := []struct {
		in, want time.Duration
	}{
		{0, MaxServerValidity},
		{-time.Hour, MaxServerValidity},
		{time.Minute, MinValidity},
		{2 * time.Hour, 2 * time.Hour},
		{MaxServerValidity, MaxServerValidity},
		{MaxServerValidity + time.Second, MaxServerValidity},
	}
	for _, tt := range tests {
		if got := capValidity(tt.in, MaxServerValidity); got != tt.want {
			t.Errorf("capValidity(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
