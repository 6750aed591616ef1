package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/tlsca"
)

// TestServe runs Serve with the operator's certificate files and a plain
// port: the plain port only redirects, the files are read again when a
// reload is signalled, TLS 1.1 is refused, and cancelling stops both
// listeners.
func TestServe(t *testing.T) {
	ca, err := tlsca.OpenCA(filepath.Join(t.TempDir(), "tls"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	first := writeServerCert(t, ca, certFile, keyFile)

	var calls atomic.Int64
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.WriteString(w, "api answer")
	})
	redirectAddr := freeAddr(t)
	reload := make(chan struct{})
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, api, ca, Listener{Addr: "127.0.0.1:0", RedirectAddr: redirectAddr,
			CertFile: certFile, KeyFile: keyFile, Reload: reload, Ready: func(a string) { ready <- a }}, nil)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Serve: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not start")
	}
	_, port, _ := net.SplitHostPort(addr)

	// served returns the serial of the certificate a new connection sees.
	served := func(client *tls.Config) (string, error) {
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: client, DisableKeepAlives: true}}
		resp, err := hc.Get("https://" + addr + "/v1/products")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		if b, _ := io.ReadAll(resp.Body); string(b) != "api answer" {
			t.Fatalf("HTTPS answered %q", b)
		}
		return resp.TLS.PeerCertificates[0].SerialNumber.String(), nil
	}
	modern := &tls.Config{RootCAs: ca.Pool()}
	if got, err := served(modern); err != nil || got != first {
		t.Fatalf("first certificate: %s, %v; want %s", got, err, first)
	}

	// The plain port redirects every method and never reaches the API.
	before := calls.Load()
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, method := range []string{"GET", "POST", "DELETE"} {
		req, _ := http.NewRequest(method, "http://"+redirectAddr+"/v1/customers?cursor=abc",
			strings.NewReader(`{"name":"Ada"}`))
		resp, err := plain.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := "https://127.0.0.1:" + port + "/v1/customers?cursor=abc"
		if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want ||
			strings.Contains(string(b), "api answer") {
			t.Errorf("%s on the plain port: %d to %q, want 308 to %q", method, resp.StatusCode,
				resp.Header.Get("Location"), want)
		}
	}
	if calls.Load() != before {
		t.Fatal("a plain-HTTP request reached the API")
	}

	// New files are served once a reload is signalled, well before the
	// files would be polled.
	second := writeServerCert(t, ca, certFile, keyFile)
	reload <- struct{}{}
	for deadline := time.Now().Add(3 * time.Second); ; {
		got, err := served(modern)
		if err == nil && got == second {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a reload: %s, %v; want %s", got, err, second)
		}
		time.Sleep(20 * time.Millisecond)
	}

	old := &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
	if _, err := served(old); err == nil {
		t.Fatal("a TLS 1.1 client was served")
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not stop")
	}
	if _, err := net.DialTimeout("tcp", redirectAddr, time.Second); err == nil {
		t.Error("the plain port still accepts connections after shutdown")
	}
}

// writeServerCert writes a new server certificate from ca to the two
// files and returns its serial number.
func writeServerCert(t *testing.T, ca *tlsca.CA, certFile, keyFile string) string {
	t.Helper()
	c, err := ca.IssueServer(nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return c.Leaf.SerialNumber.String()
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeDropsSlowClients opens two connections that stall, one before
// its TLS handshake and one in the middle of its request headers: the
// server closes both once the header timeout passes.
func TestServeDropsSlowClients(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the header timeout; skipped with -short")
	}
	ca, err := tlsca.OpenCA(filepath.Join(t.TempDir(), "tls"))
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, http.NotFoundHandler(), ca, Listener{Addr: "127.0.0.1:0",
			Ready: func(a string) { ready <- a }}, nil)
	}()
	addr := <-ready

	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	slow, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := io.WriteString(slow, "GET /v1/products HTTP/1.1\r\nHost: localhost\r\n"); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	closed := func(c net.Conn) chan time.Duration {
		out := make(chan time.Duration, 1)
		go func() {
			c.SetReadDeadline(start.Add(readHeaderTimeout + 10*time.Second))
			io.Copy(io.Discard, c)
			out <- time.Since(start)
		}()
		return out
	}
	for name, ch := range map[string]chan time.Duration{"before the handshake": closed(silent),
		"in its headers": closed(slow)} {
		if d := <-ch; d < readHeaderTimeout-time.Second || d > readHeaderTimeout+5*time.Second {
			t.Errorf("a client stalled %s was dropped after %v, want about %v", name, d, readHeaderTimeout)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
