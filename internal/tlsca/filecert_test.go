package tlsca

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// pairFiles is a certificate and key file pair that a test rewrites.
type pairFiles struct {
	t                 *testing.T
	certPath, keyPath string
	writes            int
}

func newPairFiles(t *testing.T) *pairFiles {
	dir := t.TempDir()
	return &pairFiles{t: t, certPath: filepath.Join(dir, "server.crt"), keyPath: filepath.Join(dir, "server.key")}
}

// write replaces one file and gives it a modification time of its own, as
// a coarse file system clock might not.
func (p *pairFiles) write(path string, data []byte, mode fs.FileMode) {
	p.t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		p.t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		p.t.Fatal(err)
	}
	p.writes++
	mtime := time.Now().Add(time.Duration(p.writes) * time.Second)
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		p.t.Fatal(err)
	}
}

// writePair writes cert and its key and returns the certificate's serial.
func (p *pairFiles) writePair(cert *tls.Certificate) string {
	p.t.Helper()
	keyPEM, err := encodeKey(cert.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		p.t.Fatal(err)
	}
	p.write(p.certPath, pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: cert.Certificate[0]}), 0o644)
	p.write(p.keyPath, keyPEM, 0o600)
	return cert.Leaf.SerialNumber.String()
}

func issueAt(t *testing.T, now time.Time, validity time.Duration) *tls.Certificate {
	t.Helper()
	cert, err := sharedCA(t).issueServer(nil, validity, now)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// errorLog collects the errors a callback receives.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (e *errorLog) add(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errs = append(e.errs, err)
}

func (e *errorLog) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.errs)
}

func serialOf(f *FileCert) string { return f.Certificate().Leaf.SerialNumber.String() }

func TestFileCertFollowsChanges(t *testing.T) {
	now := time.Now()
	clk := &fakeClock{now: now}
	files := newPairFiles(t)
	first := files.writePair(issueAt(t, now, time.Hour))
	var errs errorLog
	opts := FileOptions{Clock: clk, OnError: errs.add}
	fc, err := OpenFileCert(context.Background(), files.certPath, files.keyPath, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	if serialOf(fc) != first {
		t.Fatal("OpenFileCert did not serve the files' certificate")
	}
	clk.waitCalls(t, 1)

	// Nothing changed: the default interval passes without a reload.
	clk.Advance(DefaultPollInterval - time.Second)
	if clk.callCount() != 1 {
		t.Fatal("polled before the default interval")
	}
	clk.Advance(time.Second)
	clk.waitCalls(t, 2)

	// New files are served after the next poll.
	second := files.writePair(issueAt(t, now, time.Hour))
	clk.Advance(DefaultPollInterval)
	clk.waitCalls(t, 3)
	if serialOf(fc) != second {
		t.Fatal("the changed files were not reloaded")
	}

	// Reload reads the files at once, without waiting for a poll.
	third := files.writePair(issueAt(t, now, time.Hour))
	if err := fc.Reload(); err != nil {
		t.Fatal(err)
	}
	if serialOf(fc) != third {
		t.Fatal("Reload did not serve the new certificate")
	}

	client := &tls.Config{RootCAs: sharedCA(t).Pool(), ServerName: "localhost"}
	res := handshake(t, ServerConfig(fc.GetCertificate, nil), client)
	if res.clientErr != nil || res.clientState.PeerCertificates[0].SerialNumber.String() != third {
		t.Fatalf("handshake: %v, or not the reloaded certificate", res.clientErr)
	}
	if errs.count() != 0 {
		t.Errorf("errors reported: %v", errs.errs)
	}
}

func TestFileCertKeepsCertificateOnBadReload(t *testing.T) {
	now := time.Now()
	otherKey, err := encodeKey(issueAt(t, now, time.Hour).PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	expired := issueAt(t, now.Add(-3*time.Hour), time.Hour)

	tests := []struct {
		name   string
		damage func(p *pairFiles)
		want   string // in the reported error
	}{
		{"garbage certificate", func(p *pairFiles) { p.write(p.certPath, []byte("garbage"), 0o644) }, "PEM data in certificate"},
		{"garbage key", func(p *pairFiles) { p.write(p.keyPath, []byte("garbage"), 0o600) }, "PEM data in key"},
		{"empty certificate", func(p *pairFiles) { p.write(p.certPath, nil, 0o644) }, "PEM data in certificate"},
		{"key of another certificate", func(p *pairFiles) { p.write(p.keyPath, otherKey, 0o600) }, "does not match"},
		{"expired certificate", func(p *pairFiles) { p.writePair(expired) }, "expired"},
		{"key readable by others", func(p *pairFiles) { p.write(p.keyPath, otherKey, 0o644) }, "chmod 600"},
		{"certificate removed", func(p *pairFiles) {
			if err := os.Remove(p.certPath); err != nil {
				t.Fatal(err)
			}
		}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{now: now}
			files := newPairFiles(t)
			good := files.writePair(issueAt(t, now, time.Hour))
			var errs errorLog
			fc, err := OpenFileCert(context.Background(), files.certPath, files.keyPath,
				FileOptions{Clock: clk, OnError: errs.add, Interval: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer fc.Close()
			clk.waitCalls(t, 1)

			tt.damage(files)
			for i := range 3 {
				clk.Advance(time.Second)
				clk.waitCalls(t, 2+i)
			}
			if serialOf(fc) != good {
				t.Error("the bad files replaced the certificate")
			}
			if errs.count() != 1 {
				t.Fatalf("%d errors reported over three polls, want 1", errs.count())
			}
			if got := errs.errs[0].Error(); !strings.Contains(got, tt.want) {
				t.Errorf("reported %q, want it to say %q", got, tt.want)
			}
			if err := fc.Reload(); err == nil || serialOf(fc) != good {
				t.Errorf("Reload of bad files: %v", err)
			}

			// Good files again are picked up by the next poll.
			fixed := files.writePair(issueAt(t, now, time.Hour))
			clk.Advance(time.Second)
			clk.waitCalls(t, 5)
			if serialOf(fc) != fixed {
				t.Error("the repaired files were not reloaded")
			}
		})
	}
}

func TestOpenFileCertRefusesBadFiles(t *testing.T) {
	tests := []struct {
		name  string
		setup func(p *pairFiles)
		isErr error
	}{
		{"missing", func(*pairFiles) {}, fs.ErrNotExist},
		{"garbage", func(p *pairFiles) {
			p.write(p.certPath, []byte("garbage"), 0o644)
			p.write(p.keyPath, []byte("garbage"), 0o600)
		}, nil},
		{"world-readable key", func(p *pairFiles) {
			p.writePair(issueAt(t, time.Now(), time.Hour))
			p.write(p.keyPath, mustRead(t, p.keyPath), 0o604)
		}, ErrKeyFileMode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := newPairFiles(t)
			tt.setup(files)
			_, err := OpenFileCert(context.Background(), files.certPath, files.keyPath, FileOptions{Clock: newFakeClock()})
			if err == nil {
				t.Fatal("OpenFileCert accepted the files")
			}
			if tt.isErr != nil && !errors.Is(err, tt.isErr) {
				t.Errorf("error %v, want %v", err, tt.isErr)
			}
		})
	}
}

func TestFileCertAllowsGroupReadableKey(t *testing.T) {
	files := newPairFiles(t)
	files.writePair(issueAt(t, time.Now(), time.Hour))
	files.write(files.keyPath, mustRead(t, files.keyPath), 0o640)
	fc, err := OpenFileCert(context.Background(), files.certPath, files.keyPath, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fc.Close()
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
