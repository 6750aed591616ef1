package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/policy/analyze"
)

// TestAccessUnused seeds a trail with uses of a few grants, some older
// than the window, and runs access unused beside the open trail, as it
// would run beside a server.
func TestAccessUnused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("SECURECART_ROOT_KEY_FILE", filepath.Join(t.TempDir(), "root.key"))
	d := "--data-dir=" + dir
	mustRun(t, d, "keys", "list")

	dep := openDeployment(t, dir)
	defer dep.Close()
	trail, err := dep.OpenAudit(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer trail.Close() // held while the command runs, as a server would

	now := time.Now()
	// Oldest first, as a trail is written.
	seed := []struct {
		ago      time.Duration
		role     string
		action   string
		res      audit.Resource
		effect   audit.Effect
		policies []string
	}{
		{40 * 24 * time.Hour, policy.RoleSecurity, policy.ReadAudit, audit.Resource{Type: "Collection", ID: "audit"},
			audit.EffectAllow, []string{"security-read"}},
		{3 * 24 * time.Hour, policy.RolePaymentProvider, policy.Detokenize, audit.Resource{Type: "CardToken", ID: "tok_1"},
			audit.EffectAllow, []string{"payment-provider-cards"}},
		{2 * time.Hour, policy.RoleDBA, policy.ReadCustomer, audit.Resource{Type: "Customer", ID: "cus_1"},
			audit.EffectAllow, []string{"dba-rows"}},
		// Denied: exercises nothing.
		{time.Hour, policy.RoleDeveloper, policy.ReadLogs, audit.Resource{Type: "Collection", ID: "logs"},
			audit.EffectDeny, nil},
	}
	for i, s := range seed {
		r := &audit.Record{Phase: audit.PhaseRequest, Time: now.Add(-s.ago), RequestID: "req_" + string(rune('a'+i)),
			Principal: audit.Principal{ID: "prn_" + string(rune('a'+i)), Kind: "person", Roles: []string{s.role}},
			Action:    s.action, Resource: s.res, Decision: audit.Decision{Effect: s.effect, Policies: s.policies}}
		if _, err := trail.Append(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}

	unused := func(days string) analyze.Usage {
		t.Helper()
		var u analyze.Usage
		out := mustRun(t, d, "access", "unused", "--days", days, "--json")
		if err := json.Unmarshal([]byte(out), &u); err != nil {
			t.Fatalf("access unused --json: %v\n%s", err, out)
		}
		return u
	}
	u := unused("30")
	audited := analyze.Grant{Role: policy.RoleSecurity, Action: policy.ReadAudit, Resource: "Collection::audit"}
	for _, c := range []struct {
		g    analyze.Grant
		used bool
	}{
		{analyze.Grant{Role: policy.RoleDBA, Action: policy.ReadCustomer, Resource: "Customer"}, true},
		{analyze.Grant{Role: policy.RolePaymentProvider, Action: policy.Detokenize, Resource: "Collection::payments"}, true},
		{audited, false}, // older than 30 days
		{analyze.Grant{Role: policy.RoleDeveloper, Action: policy.ReadLogs, Resource: "Collection::logs"}, false},
	} {
		if !slices.Contains(u.Grants, c.g) {
			t.Fatalf("%v is not a grant", c.g)
		}
		if slices.Contains(u.Unused, c.g) == c.used {
			t.Errorf("--days 30: %v used %v, but listed unused %v", c.g, c.used, !c.used)
		}
	}
	if u.Uses != 2 || len(u.Unused) != len(u.Grants)-2 {
		t.Errorf("--days 30: %d records, %d of %d unused", u.Uses, len(u.Unused), len(u.Grants))
	}
	if u := unused("60"); slices.Contains(u.Unused, audited) || u.Uses != 3 || len(u.Unused) != len(u.Grants)-3 {
		t.Errorf("--days 60: %d of %d unused, readAudit unused %v", len(u.Unused), len(u.Grants),
			slices.Contains(u.Unused, audited))
	}
	// The trail starts 40 days ago: a window of 90 days is read in part,
	// and the command says so.
	var part struct {
		Partial   bool      `json:"partial"`
		TrailFrom time.Time `json:"trail_from"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, d, "access", "unused", "--days", "90", "--json")), &part); err != nil ||
		!part.Partial || part.TrailFrom.Sub(now.Add(-40*24*time.Hour)).Abs() > time.Second {
		t.Errorf("--days 90 over a 40-day trail: %+v, %v", part, err)
	}
	if out := mustRun(t, d, "access", "unused", "--days", "90"); !strings.Contains(out, "note: the trail in") {
		t.Errorf("--days 90 over a 40-day trail does not say it is partial:\n%s", out)
	}
	if out := mustRun(t, d, "access", "unused", "--days", "30"); strings.Contains(out, "note:") {
		t.Errorf("--days 30 called partial:\n%s", out)
	}

	table := mustRun(t, d, "access", "unused", "--days", "30")
	if !strings.Contains(table, "grants unused") || !hasRow(table, "security readAudit Collection::audit") {
		t.Errorf("table:\n%s", table)
	}
	if _, err := run(t, d, "access", "unused", "--days", "0"); err == nil {
		t.Error("--days 0 accepted")
	}
}

// hasRow reports whether a line of a table holds exactly the fields of
// row, however they are spaced.
func hasRow(table, row string) bool {
	return slices.ContainsFunc(strings.Split(table, "\n"), func(l string) bool {
		return strings.Join(strings.Fields(l), " ") == row
	})
}
