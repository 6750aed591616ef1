package tlsca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Lifetimes of issued certificates. A request for longer is capped, one
// for less than MinValidity raised to it, and zero means the maximum.
const (
	MaxServerValidity = 30 * 24 * time.Hour
	MaxClientValidity = 90 * 24 * time.Hour
	MinValidity       = time.Hour
)

// PrincipalURIPrefix starts the URI SAN that names a service principal in
// its client certificate.
const PrincipalURIPrefix = "securecart:principal:"

const maxPrincipalID = 128

// defaultHosts are the names a server certificate covers when the caller
// gives none.
var defaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// IssueServer issues a server certificate for hosts (DNS names and IP
// addresses; localhost, 127.0.0.1 and ::1 if empty), valid for validity
// (MinValidity to MaxServerValidity), with a new ECDSA P-256 key.
func (ca *CA) IssueServer(hosts []string, validity time.Duration) (*tls.Certificate, error) {
	return ca.issueServer(hosts, validity, time.Now())
}

func (ca *CA) issueServer(hosts []string, validity time.Duration, now time.Time) (*tls.Certificate, error) {
	if len(hosts) == 0 {
		hosts = defaultHosts
	}
	dnsNames, ips, err := parseHosts(hosts)
	if err != nil {
		return nil, fmt.Errorf("issue server certificate: %w", err)
	}
	cn := "SecureCart server"
	if len(dnsNames) > 0 {
		cn = dnsNames[0]
	}
	template := &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn, Organization: []string{"SecureCart"}},
		DNSNames:    dnsNames,
		IPAddresses: ips,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, key, err := ca.sign(template, capValidity(validity, MaxServerValidity), now)
	if err != nil {
		return nil, fmt.Errorf("issue server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse server certificate: %w", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// IssueClient issues a client certificate for the service principal
// principalID, valid for validity (MinValidity to MaxClientValidity). The
// id is 1 to 128 characters from letters, digits, '-', '_' and '.'. Both
// results are PEM; keyPEM is the private key, which the caller stores with
// mode 0600 or hands over once, and then clears.
func (ca *CA) IssueClient(principalID string, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	if err := checkPrincipalID(principalID); err != nil {
		return nil, nil, fmt.Errorf("issue client certificate: %w", err)
	}
	template := &x509.Certificate{
		Subject:     pkix.Name{CommonName: principalID, Organization: []string{"SecureCart service"}},
		URIs:        []*url.URL{{Scheme: "securecart", Opaque: "principal:" + principalID}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, key, err := ca.sign(template, capValidity(validity, MaxClientValidity), time.Now())
	if err != nil {
		return nil, nil, fmt.Errorf("issue client certificate: %w", err)
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: der}), keyPEM, nil
}

// PrincipalFromCert returns the service principal a client certificate
// names, if the certificate verifies against this CA for client
// authentication now and has the shape IssueClient gives it.
func (ca *CA) PrincipalFromCert(cert *x509.Certificate) (string, bool) {
	if cert == nil {
		return "", false
	}
	_, err := cert.Verify(x509.VerifyOptions{
		Roots:     ca.roots,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return "", false
	}
	if len(cert.URIs) != 1 || len(cert.DNSNames)+len(cert.IPAddresses)+len(cert.EmailAddresses) != 0 {
		return "", false
	}
	id, ok := strings.CutPrefix(cert.URIs[0].String(), PrincipalURIPrefix)
	if !ok || checkPrincipalID(id) != nil || cert.Subject.CommonName != id {
		return "", false
	}
	return id, true
}

// sign creates a leaf from template with a new key, a random serial and the
// validity window, which it clips to the CA's own.
func (ca *CA) sign(
	template *x509.Certificate, validity time.Duration, now time.Time,
) ([]byte, *ecdsa.PrivateKey, error) {
	if now.After(ca.cert.NotAfter) {
		return nil, nil, errors.New("the CA has expired")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	template.SerialNumber = serial
	template.NotBefore = now.Add(-backdate).UTC()
	template.NotAfter = template.NotBefore.Add(validity)
	if template.NotAfter.After(ca.cert.NotAfter) {
		template.NotAfter = ca.cert.NotAfter
	}
	template.BasicConstraintsValid = true

	der, err := x509.CreateCertificate(rand.Reader, template, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("sign certificate: %w", err)
	}
	return der, key, nil
}

// capValidity applies the limits above. The floor keeps a certificate from
// being born expired by the backdating of NotBefore.
func capValidity(d, limit time.Duration) time.Duration {
	if d <= 0 || d > limit {
		return limit
	}
	return max(d, MinValidity)
}

// parseHosts splits hosts into DNS names and IP addresses.
func parseHosts(hosts []string) ([]string, []net.IP, error) {
	var dnsNames []string
	var ips []net.IP
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
			continue
		}
		name := strings.ToLower(strings.TrimSuffix(h, "."))
		if !validDNSName(name) {
			return nil, nil, fmt.Errorf("parse host %q: neither an IP address nor a DNS name", h)
		}
		dnsNames = append(dnsNames, name)
	}
	return dnsNames, ips, nil
}

// validDNSName accepts lower-case host names, with an optional leading "*."
// wildcard label.
func validDNSName(name string) bool {
	name = strings.TrimPrefix(name, "*.")
	if name == "" || len(name) > 253 {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return false
			}
		}
	}
	return true
}

func checkPrincipalID(id string) error {
	if id == "" || len(id) > maxPrincipalID {
		return fmt.Errorf("check principal id: length %d is not 1 to %d", len(id), maxPrincipalID)
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.'
		if !ok {
			return errors.New("check principal id: only letters, digits, '-', '_' and '.' are allowed")
		}
	}
	return nil
}
