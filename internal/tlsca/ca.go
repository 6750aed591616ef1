package tlsca

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// CAName is the common name of the local CA.
const CAName = "SecureCart local CA"

// The files OpenCA keeps in its directory.
const (
	CACertFile = "ca.pem"
	CAKeyFile  = "ca-key.pem"
)

const (
	caValidityYears = 10

	// backdate moves every NotBefore into the past, for clients whose
	// clock is slightly behind.
	backdate = 5 * time.Minute
)

// CA is the local certificate authority. Its methods are safe for
// concurrent use.
type CA struct {
	cert    *x509.Certificate
	certPEM []byte
	key     *ecdsa.PrivateKey
	roots   *x509.CertPool // for PrincipalFromCert; never modified
}

func newCA(cert *x509.Certificate, certPEM []byte, key *ecdsa.PrivateKey) *CA {
	ca := &CA{cert: cert, certPEM: certPEM, key: key}
	ca.roots = ca.Pool()
	return ca
}

// OpenCA loads the CA kept in dir, or creates it there if neither of its
// files exists yet. It refuses a directory holding only one of them, a key
// file other users can access (ErrKeyFileMode), files it would not have
// written (ErrMalformedPEM) and an expired CA.
func OpenCA(dir string) (*CA, error) {
	certPath := filepath.Join(dir, CACertFile)
	keyPath := filepath.Join(dir, CAKeyFile)

	certThere, err := fileExists(certPath)
	if err != nil {
		return nil, fmt.Errorf("open CA: %w", err)
	}
	keyThere, err := fileExists(keyPath)
	if err != nil {
		return nil, fmt.Errorf("open CA: %w", err)
	}

	switch {
	case certThere && keyThere:
		return loadCA(certPath, keyPath, time.Now())
	case !certThere && !keyThere:
		return createCA(dir, time.Now())
	case certThere:
		return nil, fmt.Errorf("open CA: %s exists but %s does not; restore the key from a "+
			"backup, or move %s away to create a new CA that clients must then trust",
			certPath, keyPath, certPath)
	default:
		return nil, fmt.Errorf("open CA: %s exists but %s does not; restore the certificate "+
			"from a backup, or move %s away to create a new CA that clients must then trust",
			keyPath, certPath, keyPath)
	}
}

func fileExists(path string) (bool, error) {
	_, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// createCA generates a new CA and writes it to dir, the key first.
func createCA(dir string, now time.Time) (*CA, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create CA directory: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}

	notBefore := now.Add(-backdate).UTC()
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: CAName, Organization: []string{"SecureCart"}},
		NotBefore:             notBefore,
		NotAfter:              notBefore.AddDate(caValidityYears, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}

	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	defer clear(keyPEM)
	if err := writeFileAtomic(filepath.Join(dir, CAKeyFile), keyPEM, 0o600); err != nil {
		return nil, fmt.Errorf("write CA key: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: der})
	if err := writeFileAtomic(filepath.Join(dir, CACertFile), certPEM, 0o644); err != nil {
		return nil, fmt.Errorf("write CA certificate: %w", err)
	}
	return newCA(cert, certPEM, key), nil
}

// loadCA reads and checks the CA's two files.
func loadCA(certPath, keyPath string, now time.Time) (*CA, error) {
	certPEM, err := readLimited(certPath, maxCAFileSize)
	if err != nil {
		return nil, fmt.Errorf("read CA certificate: %w", err)
	}
	der, err := decodeOnePEM(certPEM, pemCertificate)
	if err != nil {
		return nil, fmt.Errorf("read CA certificate %s: %w", certPath, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate %s: %w", certPath, err)
	}
	if err := checkCACert(cert, now); err != nil {
		return nil, fmt.Errorf("check CA certificate %s: %w", certPath, err)
	}

	keyPEM, err := readKeyFile(keyPath, 0o077, maxCAFileSize)
	if err != nil {
		return nil, fmt.Errorf("read CA key: %w", err)
	}
	defer clear(keyPEM)
	key, err := decodeKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("read CA key %s: %w", keyPath, err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("read CA key %s: it does not match %s", keyPath, certPath)
	}
	return newCA(cert, bytes.Clone(certPEM), key), nil
}

// checkCACert accepts only a certificate of the shape createCA makes.
func checkCACert(cert *x509.Certificate, now time.Time) error {
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	switch {
	case !ok || pub.Curve != elliptic.P256():
		return errors.New("not an ECDSA P-256 key")
	case !cert.BasicConstraintsValid || !cert.IsCA:
		return errors.New("not a CA certificate")
	case cert.KeyUsage&x509.KeyUsageCertSign == 0:
		return errors.New("not allowed to sign certificates")
	}
	if err := cert.CheckSignatureFrom(cert); err != nil {
		return fmt.Errorf("verify self-signature: %w", err)
	}
	if now.After(cert.NotAfter) {
		return fmt.Errorf("expired on %s; move %s and %s away to create a new CA",
			cert.NotAfter.Format(time.DateOnly), CACertFile, CAKeyFile)
	}
	return nil
}

// encodeKey returns key as a PKCS #8 PEM block. The caller clears it.
func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	defer clear(der)
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), nil
}

// decodeKey is the strict inverse of encodeKey: the key must be ECDSA P-256
// and re-encode to the same bytes.
func decodeKey(keyPEM []byte) (*ecdsa.PrivateKey, error) {
	der, err := decodeOnePEM(keyPEM, pemPrivateKey)
	if err != nil {
		return nil, err
	}
	defer clear(der)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", ErrMalformedPEM)
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("parse private key: not ECDSA P-256: %w", ErrMalformedPEM)
	}
	again, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	defer clear(again)
	if !bytes.Equal(again, der) {
		return nil, fmt.Errorf("parse private key: non-canonical encoding: %w", ErrMalformedPEM)
	}
	return key, nil
}

// newSerial returns a random positive serial number of at most 128 bits.
func newSerial() (*big.Int, error) {
	b := make([]byte, 16)
	for {
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("generate serial number: %w", err)
		}
		if n := new(big.Int).SetBytes(b); n.Sign() > 0 {
			return n, nil
		}
	}
}

// Certificate returns the CA certificate. The caller must not modify it.
func (ca *CA) Certificate() *x509.Certificate { return ca.cert }

// CertPEM returns the contents of ca.pem, for clients to trust.
func (ca *CA) CertPEM() []byte { return bytes.Clone(ca.certPEM) }

// Pool returns a new pool holding only the CA certificate, for
// tls.Config.ClientCAs on the server and RootCAs on clients.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return pool
}

// String names the CA by its subject and serial; it never shows the key.
func (ca *CA) String() string {
	return fmt.Sprintf("tlsca.CA(%s, serial %x)", ca.cert.Subject.CommonName, ca.cert.SerialNumber)
}

// GoString is String, so that %#v does not print the key either.
func (ca *CA) GoString() string { return ca.String() }
