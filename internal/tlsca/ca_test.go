package tlsca

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOpenCACreatesThenLoads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "tls")
	first, err := OpenCA(dir)
	if err != nil {
		t.Fatal(err)
	}

	for name, want := range map[string]fs.FileMode{CACertFile: 0o644, CAKeyFile: 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %04o, want %04o", name, got, want)
		}
	}

	cert := first.Certificate()
	if cert.Subject.CommonName != CAName || !cert.IsCA || !cert.MaxPathLenZero {
		t.Errorf("CA certificate: CN %q, IsCA %v, MaxPathLenZero %v",
			cert.Subject.CommonName, cert.IsCA, cert.MaxPathLenZero)
	}
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("CA key is %T, want ECDSA P-256", cert.PublicKey)
	}
	if life := cert.NotAfter.Sub(cert.NotBefore); life < 3650*24*time.Hour || life > 3653*24*time.Hour {
		t.Errorf("CA validity %v, want ten years", life)
	}

	second, err := OpenCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(second.Certificate().Raw, cert.Raw) || !bytes.Equal(second.CertPEM(), first.CertPEM()) {
		t.Error("second OpenCA loaded a different certificate")
	}
	if !second.key.Equal(first.key) {
		t.Error("second OpenCA loaded a different key")
	}
}

func TestOpenCAKeyFileMode(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenCA(dir); err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, CAKeyFile)
	tests := []struct {
		mode fs.FileMode
		ok   bool
	}{
		{0o600, true},
		{0o400, true},
		{0o644, false},
		{0o640, false},
		{0o604, false},
		{0o620, false},
		{0o666, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%04o", tt.mode), func(t *testing.T) {
			if err := os.Chmod(keyPath, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, err := OpenCA(dir)
			if tt.ok {
				if err != nil {
					t.Fatalf("OpenCA: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrKeyFileMode) || !strings.Contains(err.Error(), "chmod 600") {
				t.Fatalf("OpenCA: %v, want ErrKeyFileMode telling to chmod 600", err)
			}
		})
	}
}

func TestOpenCARejectsMalformedFiles(t *testing.T) {
	other, err := OpenCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := encodeKey(other.key)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(other.key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(other.key)
	if err != nil {
		t.Fatal(err)
	}
	padded := pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: append(pkcs8, 0)})

	// Each case changes one file of a good CA.
	tests := []struct {
		name string
		file string
		edit func(good []byte) []byte
	}{
		{"cert empty", CACertFile, func([]byte) []byte { return nil }},
		{"cert twice", CACertFile, func(b []byte) []byte { return append(b, b...) }},
		{"cert trailing text", CACertFile, func(b []byte) []byte { return append(b, "junk\n"...) }},
		{"cert leading text", CACertFile, func(b []byte) []byte { return append([]byte("junk\n"), b...) }},
		{"cert as key block", CACertFile, func(b []byte) []byte {
			return bytes.ReplaceAll(b, []byte("CERTIFICATE"), []byte("PRIVATE KEY"))
		}},
		{"cert with headers", CACertFile, func(b []byte) []byte { return withHeader(t, b) }},
		{"cert truncated", CACertFile, func(b []byte) []byte { return b[:len(b)/2] }},
		{"cert of another CA", CACertFile, func([]byte) []byte { return other.CertPEM() }},
		{"key twice", CAKeyFile, func(b []byte) []byte { return append(b, b...) }},
		{"key trailing text", CAKeyFile, func(b []byte) []byte { return append(b, "junk\n"...) }},
		{"key SEC 1 format", CAKeyFile, func([]byte) []byte {
			return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})
		}},
		{"key with trailing DER", CAKeyFile, func([]byte) []byte { return padded }},
		{"key of another CA", CAKeyFile, func([]byte) []byte { return otherKey }},
		{"key is the cert", CAKeyFile, func([]byte) []byte { return other.CertPEM() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := OpenCA(dir); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, tt.file)
			good, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tt.edit(good), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := OpenCA(dir); err == nil {
				t.Fatal("OpenCA accepted the edited file")
			}
		})
	}
}

func withHeader(t *testing.T, pemData []byte) []byte {
	block, _ := pem.Decode(pemData)
	if block == nil {
		t.Fatal("no PEM block")
	}
	block.Headers = map[string]string{"Proc-Type": "4,ENCRYPTED"}
	return pem.EncodeToMemory(block)
}

func TestOpenCARefusesHalfACA(t *testing.T) {
	for _, missing := range []string{CACertFile, CAKeyFile} {
		t.Run(missing, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := OpenCA(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(filepath.Join(dir, missing)); err != nil {
				t.Fatal(err)
			}
			if _, err := OpenCA(dir); err == nil {
				t.Fatal("OpenCA accepted a directory with one file")
			}
			if _, err := os.Stat(filepath.Join(dir, missing)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("OpenCA recreated %s: %v", missing, err)
			}
		})
	}
}

func TestDecodeOnePEM(t *testing.T) {
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}})
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"exact", block, true},
		{"surrounding whitespace", append(append([]byte("\n \n"), block...), "\n\n"...), true},
		{"empty", nil, false},
		{"no block", []byte("hello"), false},
		{"other type", bytes.ReplaceAll(block, []byte("CERTIFICATE"), []byte("X509 CRL")), false},
		{"two blocks", append(block, block...), false},
		{"text before", append([]byte("subject=x\n"), block...), false},
		{"text after", append(block, "x"...), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der, err := decodeOnePEM(tt.data, "CERTIFICATE")
			if tt.ok != (err == nil) {
				t.Fatalf("decodeOnePEM: %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && !bytes.Equal(der, []byte{1, 2, 3}) {
				t.Errorf("decodeOnePEM = %x", der)
			}
			if !tt.ok && !errors.Is(err, ErrMalformedPEM) {
				t.Errorf("error %v is not ErrMalformedPEM", err)
			}
		})
	}
}

func TestCADoesNotPrintItsKey(t *testing.T) {
	ca := sharedCA(t)
	raw, err := ca.key.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	secret := fmt.Sprintf("%x", raw)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(verb, ca); strings.Contains(out, secret) {
			t.Errorf("%s prints the key", verb)
		}
	}
}

// FuzzDecodeOnePEM checks that whatever decodeOnePEM accepts is one block
// that encodes back to the input, give or take surrounding whitespace.
func FuzzDecodeOnePEM(f *testing.F) {
	block := pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: []byte("der")})
	f.Add(block)
	f.Add(append(block, block...))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nZGVy\n-----END CERTIFICATE-----"))
	f.Add([]byte("junk"))
	f.Fuzz(func(t *testing.T, data []byte) {
		der, err := decodeOnePEM(data, pemCertificate)
		if err != nil {
			return
		}
		again := pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: der})
		der2, err := decodeOnePEM(again, pemCertificate)
		if err != nil || !bytes.Equal(der, der2) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
