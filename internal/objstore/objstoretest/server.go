// Package objstoretest starts a real S3 server (versitygw) for tests and
// runs the object store conformance suite against any Store.
//
// The server binary is found through SECURECART_TEST_VERSITYGW, then on
// PATH, then in $(go env GOPATH)/bin. When it is not found, tests that need
// it are skipped with a message that says how to install it:
//
//	go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
package objstoretest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/objstore"
)

// BinaryVar names the versitygw binary explicitly.
const BinaryVar = "SECURECART_TEST_VERSITYGW"

const (
	accessKey = "securecart-test"
	secretKey = "securecart-test-secret"
)

// Binary returns the path of versitygw, or "" when it is not installed.
func Binary() string {
	if p := os.Getenv(BinaryVar); p != "" {
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = string(trimNL(out))
		}
	}
	if gopath != "" {
		p := filepath.Join(gopath, "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// Server is a running versitygw over a temporary folder. Stop and Start
// take it down and bring it back on the same address and data, to test
// outages.
type Server struct {
	bin, dir, addr string

	mu  sync.Mutex
	cmd *exec.Cmd
}

// StartS3 starts versitygw for the test, or skips the test when the binary
// is missing. The server stops when the test ends.
func StartS3(t testing.TB) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		t.Skip("S3 tests skipped: versitygw not found; install it with " +
			"`go install github.com/versity/versitygw/cmd/versitygw@v1.8.0` or set " + BinaryVar)
	}
	s := &Server{bin: bin, dir: t.TempDir(), addr: freeAddr(t)}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Start runs the server and waits until it accepts connections.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	cmd := exec.Command(s.bin, "--port", s.addr, "posix", s.dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+accessKey, "ROOT_SECRET_KEY="+secretKey)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start versitygw: %w", err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", s.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("versitygw did not listen on %s", s.addr)
}

// Stop kills the server; the data folder stays.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// Config returns the settings that reach the server.
func (s *Server) Config(bucketPrefix string) objstore.S3Config {
	return objstore.S3Config{Endpoint: "http://" + s.addr, Region: "us-east-1",
		BucketPrefix: bucketPrefix, AccessKey: accessKey, SecretKey: secretKey, MaxRetries: 1}
}

// NewStore returns an S3 store on the server with its buckets created,
// under a fresh bucket prefix.
func (s *Server) NewStore(t testing.TB) *objstore.S3 {
	t.Helper()
	st, err := objstore.NewS3(s.Config(fmt.Sprintf("t%d-", time.Now().UnixNano()%1e9)))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EnsureBuckets(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}
