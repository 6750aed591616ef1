package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// syncBuffer is a buffer several goroutines write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	keyRE  = regexp.MustCompile(`sck_[a-z2-7]{12}_[A-Za-z0-9_-]{43}`)
	addrRE = regexp.MustCompile(`serving on (https://\S+)`)
)

// TestPrincipalsThroughTheAPI starts serve, takes the bootstrap key it
// prints once, and manages principals with the command line as an API
// client.
func TestPrincipalsThroughTheAPI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	srv := startServe(t, dir)
	url, bootstrap, out := srv.url, srv.bootstrap, srv.out
	if bootstrap == "" {
		t.Fatalf("no bootstrap key printed:\n%s", out.String())
	}
	api := []string{"--data-dir", dir, "principals", "--url", url}

	// The bootstrap key does one thing: enrol the first admin person.
	t.Setenv("SECURECART_API_KEY", bootstrap)
	if _, err := run(t, append(api, "create", "--name", "storefront", "--role", "app-service")...); err == nil ||
		!strings.Contains(err.Error(), "403") {
		t.Fatalf("bootstrap created a service: %v", err)
	}
	session := enrolAdmin(t, dir, url, api)

	t.Setenv("SECURECART_API_KEY", session)
	created := mustRun(t, append(api, "create", "--name", "storefront", "--role", "app-service")...)
	key := keyRE.FindString(created)
	if key == "" || key == bootstrap {
		t.Fatalf("create printed no new key:\n%s", created)
	}
	list := mustRun(t, append(api, "list")...)
	if !strings.Contains(list, "storefront") || !strings.Contains(list, "bootstrap-admin") || keyRE.MatchString(list) {
		t.Fatalf("list:\n%s", list)
	}

	// The new key works until it is revoked; then the API refuses it.
	keyID := key[4:16]
	t.Setenv("SECURECART_API_KEY", key)
	if _, err := run(t, append(api, "list")...); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("app-service listing principals: %v", err)
	}
	t.Setenv("SECURECART_API_KEY", session)
	certDir := t.TempDir()
	certOut := mustRun(t, append(api, "issue-cert", "storefront", "--out", certDir)...)
	if !strings.Contains(certOut, "storefront.pem") {
		t.Fatalf("issue-cert:\n%s", certOut)
	}
	storefront := regexp.MustCompile(`\((prn_[a-z2-7]{26})\)`).FindStringSubmatch(certOut)
	renew := mustRun(t, append(api, "renew-cert", storefront[1], "--cert", filepath.Join(certDir, "storefront.pem"),
		"--key", filepath.Join(certDir, "storefront-key.pem"))...)
	if !strings.Contains(renew, "not due") {
		t.Fatalf("renew-cert of a fresh certificate:\n%s", renew)
	}
	mustRun(t, append(api, "revoke", keyID)...)
	t.Setenv("SECURECART_API_KEY", key)
	if _, err := run(t, append(api, "list")...); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("revoked key: %v", err)
	}
	srv.stop(t)
	if strings.Count(out.String(), "Bootstrap admin API key") != 1 || strings.Count(out.String(), bootstrap) != 1 {
		t.Fatalf("bootstrap key printed %d times", strings.Count(out.String(), bootstrap))
	}

	// A second start prints no bootstrap key.
	srv = startServe(t, dir)
	srv.stop(t)
	again := srv.out
	if strings.Contains(again.String(), "Bootstrap") || keyRE.MatchString(again.String()) {
		t.Fatalf("the second start printed a key:\n%s", again.String())
	}

	// On the host, the operator can always get an enrolment key back.
	rec := mustRun(t, "--data-dir", dir, "admin", "recover")
	if !keyRE.MatchString(rec) || keyRE.FindString(rec) == bootstrap {
		t.Fatalf("admin recover:\n%s", rec)
	}
	tail := mustRun(t, "--data-dir", dir, "audit", "tail", "--json", "--follow=false")
	if strings.Count(tail, "adminRecover") != 2 || keyRE.MatchString(tail) {
		t.Fatalf("audit trail of the recovery:\n%s", tail)
	}
}

// enrolAdmin has the bootstrap key (in the environment) create an admin
// person, set their password and TOTP, and returns that person's session.
// served is a `securecart serve` a test runs.
type served struct {
	url, bootstrap string // the bootstrap key, if this start printed one
	out            *syncBuffer
	cancel         context.CancelFunc
	done           chan error
}

// startServe runs serve on dir, listening on a free port, with args
// added, and returns once it serves. Stop it with stop.
func startServe(t *testing.T, dir string, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := &served{out: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	root := newRoot()
	root.SetOut(s.out)
	root.SetErr(s.out)
	root.SetArgs(append([]string{"--data-dir", dir, "serve", "--listen", "127.0.0.1:0"}, args...))
	go func() { s.done <- root.ExecuteContext(ctx) }()
	for deadline := time.Now().Add(time.Minute); s.url == ""; {
		if m := addrRE.FindStringSubmatch(s.out.String()); m != nil {
			s.url, s.bootstrap = m[1], keyRE.FindString(s.out.String())
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", s.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// stop shuts serve down and fails the test unless it stopped cleanly.
func (s *served) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	if err := <-s.done; err != nil {
		t.Fatal(err)
	}
}

func enrolAdmin(t *testing.T, dir, url string, api []string) string {
	t.Helper()
	created := mustRun(t, append(api, "create", "--name", "root", "--kind", "person", "--role", "admin")...)
	id := regexp.MustCompile(`prn_[a-z2-7]{26}`).FindString(created)
	t.Setenv("SECURECART_NEW_PASSWORD", "orchard-lantern-copper-81")
	mustRun(t, append(api, "set-password", id)...)
	enrol := mustRun(t, append(api, "enrol-totp", id)...)
	m := regexp.MustCompile(`secret \(shown once\): ([A-Z2-7]+)`).FindStringSubmatch(enrol)
	if m == nil {
		t.Fatalf("enrol-totp:\n%s", enrol)
	}
	code, err := totp.GenerateCode(m[1], time.Now())
	if err != nil {
		t.Fatal(err)
	}
	confirmed := mustRun(t, append(api, "confirm-totp", id, code)...)
	recovery := regexp.MustCompile(`[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}`).FindString(confirmed)
	if recovery == "" {
		t.Fatalf("confirm-totp:\n%s", confirmed)
	}
	// The confirming code is spent; a recovery code signs in at once.
	t.Setenv("SECURECART_PASSWORD", "orchard-lantern-copper-81")
	out := mustRun(t, "--data-dir", dir, "signin", "--url", url, "--name", "root", "--code", recovery)
	session := regexp.MustCompile(`scs_[A-Za-z0-9_-]{43}`).FindString(out)
	if session == "" {
		t.Fatalf("signin:\n%s", out)
	}
	return session
}
