package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/tlsca"
)

// TestServeReloadsCertificateOnSIGHUP serves with the operator's
// certificate files, replaces them, and sends the process SIGHUP: new
// connections get the new certificate well before the files are polled.
func TestServeReloadsCertificateOnSIGHUP(t *testing.T) {
	issuer, err := tlsca.OpenCA(filepath.Join(t.TempDir(), "operator-ca"))
	if err != nil {
		t.Fatal(err)
	}
	files := t.TempDir()
	certFile, keyFile := filepath.Join(files, "cert.pem"), filepath.Join(files, "key.pem")
	first := writeOperatorCert(t, issuer, certFile, keyFile)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	srv := newRoot()
	srv.SetOut(out)
	srv.SetErr(out)
	srv.SetArgs([]string{"--data-dir", filepath.Join(t.TempDir(), "data"), "serve", "--listen", "127.0.0.1:0",
		"--tls-cert", certFile, "--tls-key", keyFile})
	done := make(chan error, 1)
	go func() { done <- srv.ExecuteContext(ctx) }()
	serving := regexp.MustCompile(`serving on (https://\S+)`)
	var url string
	for deadline := time.Now().Add(time.Minute); url == ""; {
		if m := serving.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true,
		TLSClientConfig: &tls.Config{RootCAs: issuer.Pool(), ServerName: "localhost"}}}
	served := func() string {
		resp, err := client.Get(url + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.TLS.PeerCertificates[0].SerialNumber.String()
	}
	if got := served(); got != first {
		t.Fatalf("serving %s, want the operator's %s", got, first)
	}

	// serve has installed its SIGHUP handler before it printed its address.
	second := writeOperatorCert(t, issuer, certFile, keyFile)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(3 * time.Second); served() != second; {
		if time.Now().After(deadline) {
			t.Fatal("the new certificate was not served after SIGHUP")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// writeOperatorCert writes a server certificate for localhost from issuer
// and returns its serial number.
func writeOperatorCert(t *testing.T, issuer *tlsca.CA, certFile, keyFile string) string {
	t.Helper()
	c, err := issuer.IssueServer([]string{"localhost", "127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600); err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]})
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return c.Leaf.SerialNumber.String()
}
