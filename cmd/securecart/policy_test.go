package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/policy/cases"
	"github.com/securecart/securecart/internal/policy/versions"
	"github.com/securecart/securecart/internal/server"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

const (
	analyzeData = "../../internal/policy/analyze/testdata/"
	casesData   = "../../internal/policy/cases/testdata/"
)

func TestPolicyOffline(t *testing.T) {
	if out := mustRun(t, "policy", "validate", "default"); !strings.Contains(out, "valid") ||
		!strings.Contains(out, "2 resource policies") {
		t.Fatalf("validate default: %s", out)
	}
	bad := filepath.Join(t.TempDir(), "bad.cedar")
	os.WriteFile(bad, []byte("@id(\"a\")\npermit (principal, action, resource)\nwhen { context.nope };\n"), 0o600)
	if _, err := run(t, "policy", "validate", bad); err == nil || !strings.Contains(err.Error(), "line 1, column 1") {
		t.Fatalf("validate bad: %v", err)
	}

	data, err := os.ReadFile(casesData + "default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cf, err := cases.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("ok: %d cases", len(cf.Cases))
	if out := mustRun(t, "policy", "test", casesData+"default.yaml"); !strings.Contains(out, want) {
		t.Fatalf("policy test: %s, want %q", out, want)
	}
	// The same cases against a set that lets the developer read PII fail.
	wide := filepath.Join(t.TempDir(), "wide.cedar")
	os.WriteFile(wide, append(policy.DefaultPolicies(), []byte(`
@id("developer-pii")
permit (principal in SecureCart::Role::"developer", action == SecureCart::Action::"readPII", resource);`)...), 0o600)
	out, err := run(t, "policy", "test", casesData+"default.yaml", "--policies", wide)
	if err == nil || !strings.Contains(out, "developer never sees PII in clear") {
		t.Fatalf("policy test against a widened set: %v\n%s", err, out)
	}

	out = mustRun(t, "policy", "diff", analyzeData+"base.cedar", analyzeData+"widened.cedar")
	if !strings.Contains(out, "~ policy dba-pii-mfa") || !strings.Contains(out, "+ allow dba/person readPII") {
		t.Fatalf("diff: %s", out)
	}

	out, err = run(t, "access", "check-no-new-access", analyzeData+"base.cedar", analyzeData+"widened.cedar")
	if err == nil || !strings.Contains(out, "new access: dba/person readPII Customer[other] in application") {
		t.Fatalf("check-no-new-access widened: %v\n%s", err, out)
	}
	mustRun(t, "access", "check-no-new-access", analyzeData+"base.cedar", analyzeData+"rewrite.cedar")

	if out := mustRun(t, "access", "analyze", "default"); !strings.Contains(out, "No guardrail findings") {
		t.Fatalf("analyze default: %s", out)
	}
	out, err = run(t, "access", "analyze", analyzeData+"guardrails/no-admin-path.trips.cedar")
	if err == nil || !strings.Contains(out, "no-admin-path (blocking") {
		t.Fatalf("analyze a locked-out set: %v\n%s", err, out)
	}
}

// admins authenticates one fixed key as an admin service.
type admins struct{}

func (admins) AuthenticateKey(_ context.Context, key string) (server.Principal, error) {
	if key != "test-admin-key" {
		return server.Principal{}, server.ErrUnauthenticated
	}
	return server.Principal{ID: "prn_admin", Name: "ops", Kind: policy.KindService,
		Roles: []string{policy.RoleAdmin}}, nil
}

func (admins) AuthenticateCert(context.Context, *x509.Certificate) (server.Principal, error) {
	return server.Principal{}, server.ErrUnauthenticated
}

func TestPolicyThroughTheAPI(t *testing.T) {
	pv, err := versions.Open(context.Background(), sqldbtest.OpenSQLite(t))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(server.New(server.Deps{Policy: pv.Live(), Policies: pv, Identity: admins{}}))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	t.Setenv("SECURECART_API_KEY", "test-admin-key")
	flags := []string{"--url", srv.URL, "--ca-file", ca}
	policyCmd := func(args ...string) []string { return append(append([]string{"policy"}, flags...), args...) }

	// check applies nothing: it validates, compares and tests.
	out := mustRun(t, policyCmd("check", "default", "--cases", casesData+"default.yaml")...)
	if !strings.Contains(out, "compared with version 0") || !strings.Contains(out, "ok: ") ||
		strings.Contains(out, "allow ") {
		t.Fatalf("check the default set: %s", out)
	}
	out, err = run(t, policyCmd("check", analyzeData+"operations-network.cedar", "--cases", casesData+"default.yaml")...)
	if err == nil || !strings.Contains(err.Error(), "cases failed") || !strings.Contains(out, "FAIL case") ||
		!strings.Contains(out, "- allow ") {
		t.Fatalf("check a set the cases do not fit: %v\n%s", err, out)
	}
	if out, err := run(t, policyCmd("check", analyzeData+"guardrails/no-admin-path.trips.cedar")...); err == nil ||
		!strings.Contains(err.Error(), "blocking guardrail") || !strings.Contains(out, "no-admin-path") {
		t.Fatalf("check a locked-out set: %v\n%s", err, out)
	}

	out = mustRun(t, policyCmd("apply", analyzeData+"operations-network.cedar", "--note", "operators' network")...)
	if !strings.Contains(out, "version 1 is active") {
		t.Fatalf("apply: %s", out)
	}
	out = mustRun(t, policyCmd("show")...)
	if !strings.Contains(out, "version 1 (active)") || !strings.Contains(out, "Resource policies:") ||
		!strings.Contains(out, "audit-operations-only on collection audit") {
		t.Fatalf("show: %s", out)
	}
	out = mustRun(t, append(append([]string{"access"}, flags...), "analyze")...)
	if !strings.Contains(out, "2 resource policies") || !strings.Contains(out, "operations") {
		t.Fatalf("analyze the active set: %s", out)
	}
	if _, err := run(t, policyCmd("apply", analyzeData+"guardrails/no-admin-path.trips.cedar")...); err == nil ||
		!strings.Contains(err.Error(), "policy_refused") {
		t.Fatalf("apply a locked-out set: %v", err)
	}
	mustRun(t, policyCmd("rollback", "0")...)
	out = mustRun(t, policyCmd("list")...)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 4 ||
		!strings.Contains(lines[1], "rollback to version 0") || !strings.Contains(lines[1], "*") {
		t.Fatalf("list: %s", out)
	}
}

// TestPolicyOnARunningServer applies, analyzes and rolls back through
// serve, as an admin person signed in with password and TOTP.
func TestPolicyOnARunningServer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	srv := startServe(t, dir)
	url, bootstrap := srv.url, srv.bootstrap
	t.Setenv("SECURECART_API_KEY", bootstrap)
	session := enrolAdmin(t, dir, url, []string{"--data-dir", dir, "principals", "--url", url})
	t.Setenv("SECURECART_API_KEY", session)
	pol := func(args ...string) []string {
		return append([]string{"--data-dir", dir, "policy", "--url", url}, args...)
	}

	got := mustRun(t, pol("apply", analyzeData+"operations-network.cedar")...)
	if !strings.Contains(got, "version 1 is active") {
		t.Fatalf("apply: %s", got)
	}
	got = mustRun(t, "--data-dir", dir, "access", "--url", url, "analyze", "--json")
	if !strings.Contains(got, `"version": 1`) || !strings.Contains(got, "audit-operations-only") {
		t.Fatalf("analyze the active set:\n%.400s", got)
	}
	if got := mustRun(t, pol("rollback", "0")...); !strings.Contains(got, "version 2 is active") {
		t.Fatalf("rollback: %s", got)
	}
	// The trail can be read beside the running server: the changes
	// exercised the admin's grant to manage policies.
	unused := mustRun(t, "--data-dir", dir, "access", "unused", "--days", "1")
	if !strings.Contains(unused, "grants unused") || hasRow(unused, "admin managePolicies Collection::policies") ||
		!hasRow(unused, "security managePolicies Collection::policies") {
		t.Fatalf("access unused beside the server:\n%s", unused)
	}
	srv.stop(t)

	// The command line's policy changes went through the API, so the
	// trail holds each: the request record, durable before it ran, then
	// its outcome.
	var changes []trailRec
	for _, r := range trailRecords(t, filepath.Join(dir, audit.DirName)) {
		if r.Action == policy.ManagePolicies {
			changes = append(changes, r)
		}
	}
	if len(changes) != 4 || changes[0].Phase != audit.PhaseRequest || changes[1].RequestSeq != changes[0].Seq ||
		changes[1].Status >= 300 || changes[3].RequestSeq != changes[2].Seq || changes[3].Status >= 300 {
		t.Fatalf("policy changes in the trail: %+v", changes)
	}
}
