package main

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/server"
)

// TestKeysOnARunningServer rotates, rewraps and destroys key versions
// through serve's API, as an admin person signed in with MFA, while keys
// list reads the same deployment beside it. An admin without MFA is
// refused, and the trail holds every change as an API request.
func TestKeysOnARunningServer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	srv := startServe(t, dir)
	url, bootstrap := srv.url, srv.bootstrap
	principals := []string{"--data-dir", dir, "principals", "--url", url}
	t.Setenv("SECURECART_API_KEY", bootstrap)
	if _, err := run(t, "--data-dir", dir, "keys", "rotate", "orders", "--url", url); err == nil ||
		!strings.Contains(err.Error(), "403 forbidden") {
		t.Fatalf("keys rotate with the bootstrap key: %v", err)
	}
	session := enrolAdmin(t, dir, url, principals)
	t.Setenv("SECURECART_API_KEY", session)
	plain := keyRE.FindString(mustRun(t, append(principals, "create", "--name", "plain-admin", "--kind", "person",
		"--role", "admin")...))
	keysCmd := func(args ...string) []string {
		return append([]string{"--data-dir", dir, "keys"}, append(args, "--url", url)...)
	}

	t.Setenv("SECURECART_API_KEY", plain)
	if _, err := run(t, keysCmd("rotate", "customer-pii")...); err == nil || !strings.Contains(err.Error(), "403 forbidden") {
		t.Fatalf("keys rotate by an admin without MFA: %v", err)
	}
	t.Setenv("SECURECART_API_KEY", session)
	if got := mustRun(t, keysCmd("rotate", "customer-pii")...); !strings.Contains(got, "customer-pii: version 2 is active") {
		t.Fatalf("keys rotate: %s", got)
	}
	if got := mustRun(t, keysCmd("rewrap", "customer-pii")...); !strings.Contains(got, "rewrapped ") {
		t.Fatalf("keys rewrap: %s", got)
	}
	if got := mustRun(t, keysCmd("destroy", "customer-pii", "1")...); !strings.Contains(got, "customer-pii version 1 destroyed") {
		t.Fatalf("keys destroy: %s", got)
	}
	if _, err := run(t, keysCmd("destroy", "customer-pii", "2")...); err == nil ||
		!strings.Contains(err.Error(), "409 key_in_use") || !strings.Contains(err.Error(), "version 2 is active") {
		t.Fatalf("keys destroy of the active version: %v", err)
	}
	if got := mustRun(t, keysCmd("rotate", "blind-index")...); !strings.Contains(got, "blind-index: version 2 is active") ||
		!strings.Contains(got, "re-indexed ") {
		t.Fatalf("keys rotate blind-index: %s", got)
	}
	listed := mustRun(t, "--data-dir", dir, "keys", "list", "--json")
	if !strings.Contains(listed, `"destroyed"`) {
		t.Fatalf("keys list beside the server:\n%s", listed)
	}
	assertNoKeyMaterial(t, dir, listed, mustRun(t, "--data-dir", dir, "keys", "list"))
	srv.stop(t)

	// Each change is a request record, durable before it ran, naming the
	// key domain or version, then its outcome; the refusal without MFA
	// has its outcome record.
	var got []string
	for _, r := range trailRecords(t, filepath.Join(dir, audit.DirName)) {
		if r.Action == policy.ManageKeys {
			got = append(got, fmt.Sprintf("%s %s:%s %d %s", r.Phase, r.Resource.Type, r.Resource.ID, r.Status, r.ErrorCode))
		}
	}
	want := []string{
		"outcome KeyDomain:customer-pii 403 forbidden",
		"request KeyDomain:customer-pii 0 ", "outcome KeyDomain:customer-pii 200 ",
		"request KeyDomain:customer-pii 0 ", "outcome KeyDomain:customer-pii 200 ",
		"request KeyVersion:customer-pii/1 0 ", "outcome KeyVersion:customer-pii/1 200 ",
		"request KeyVersion:customer-pii/2 0 ", "outcome KeyVersion:customer-pii/2 409 key_in_use",
		"request KeyDomain:blind-index 0 ", "outcome KeyDomain:blind-index 200 ",
		"request KeyDomain:blind-index 0 ", "outcome KeyDomain:blind-index 200 ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("key changes in the trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// slowKeys moves one data key per batch and takes two seconds of clock
// for each, so that a rewrap request stops after three batches.
type slowKeys struct {
	mu    sync.Mutex
	now   time.Time
	left  int64
	calls int
}

func (k *slowKeys) clock() time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.now
}

func (k *slowKeys) List(context.Context) ([]keys.KeyInfo, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return []keys.KeyInfo{
		{Domain: envelope.CustomerPII, Version: 1, State: keys.DecryptOnly, DataKeys: k.left},
		{Domain: envelope.CustomerPII, Version: 2, State: keys.Active},
	}, nil
}

func (k *slowKeys) Rotate(context.Context, keys.Domain) (uint32, error) { return 2, nil }

func (k *slowKeys) Destroy(context.Context, keys.Domain, uint32) error { return nil }

func (k *slowKeys) Rewrap(ctx context.Context, _ keys.Domain, progress func(done, total int64)) (int64, error) {
	k.mu.Lock()
	k.calls++
	total := k.left
	k.mu.Unlock()
	var done int64
	for done < total {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		k.mu.Lock()
		k.left--
		k.now = k.now.Add(2 * time.Second)
		k.mu.Unlock()
		done++
		progress(done, total)
	}
	return done, nil
}

// TestKeysRewrapRepeatsUntilDone: keys rewrap asks again while the server
// answers that data keys are left, and moves its progress bar.
func TestKeysRewrapRepeatsUntilDone(t *testing.T) {
	pe, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	ks := &slowKeys{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), left: 10}
	srv := httptest.NewTLSServer(server.New(server.Deps{Policy: pe, Identity: admins{}, Keys: ks, Now: ks.clock}))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	t.Setenv("SECURECART_API_KEY", "test-admin-key")

	out := mustRun(t, "keys", "rewrap", "customer-pii", "--url", srv.URL, "--ca-file", ca)
	if !strings.Contains(out, "rewrapped 10 customer-pii data keys") || !strings.Contains(out, "rewrap customer-pii") {
		t.Fatalf("keys rewrap:\n%s", out)
	}
	if ks.calls != 4 {
		t.Fatalf("%d rewrap requests for 10 keys at 3 a request, want 4", ks.calls)
	}

	t.Setenv("SECURECART_API_KEY", "not-a-key")
	_, err = run(t, "keys", "rewrap", "customer-pii", "--url", srv.URL, "--ca-file", ca)
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "resume") {
		t.Fatalf("keys rewrap refused: %v", err)
	}
}
