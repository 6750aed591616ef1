package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/config"
	"github.com/securecart/securecart/internal/deploy"
)

// writeAuditLog writes n records to the deployment's audit log with its
// own signing key, with a checkpoint after every 10.
func writeAuditLog(t *testing.T, dataDir string, n int) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = dataDir
	d, err := deploy.Open(t.Context(), cfg, deploy.Options{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	signer, err := d.Keys.AuditSigner(audit.DefaultOrigin)
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(filepath.Join(dataDir, audit.DirName),
		audit.Options{Origin: audit.DefaultOrigin, Signer: signer, CheckpointEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		r := &audit.Record{Phase: audit.PhaseRequest, Time: time.Unix(1764790000+int64(i), 0),
			RequestID: "req-" + string(rune('a'+i%26)), Action: "readCustomer",
			Principal: audit.Principal{ID: "prn_dba", Kind: "person", Roles: []string{"dba"}},
			Resource:  audit.Resource{Type: "Customer", ID: "cus_1"},
			Decision:  audit.Decision{Effect: audit.EffectAllow}}
		if _, err := l.Append(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		if i%10 == 9 {
			if _, err := l.Checkpoint(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestAuditCommands(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	d := "--data-dir=" + dataDir
	mustRun(t, d, "keys", "list") // creates the deployment
	writeAuditLog(t, dataDir, 25)

	out := mustRun(t, d, "audit", "verify")
	if !strings.Contains(out, "25 verified") || !strings.HasSuffix(out, "ok\n") {
		t.Fatalf("audit verify:\n%s", out)
	}
	vkey := strings.TrimSpace(mustRun(t, d, "audit", "pubkey"))
	if !strings.HasPrefix(vkey, audit.DefaultOrigin+"+") || strings.Count(vkey, "\n") != 0 {
		t.Fatalf("audit pubkey: %q", vkey)
	}
	mustRun(t, d, "audit", "verify", "--key", vkey)

	proofFile := filepath.Join(t.TempDir(), "proof.json")
	if err := os.WriteFile(proofFile, []byte(mustRun(t, d, "audit", "prove", "7")), 0o600); err != nil {
		t.Fatal(err)
	}
	out = mustRun(t, "audit", "verify-proof", proofFile, "--key", vkey)
	if !strings.Contains(out, "ok: record 7 is in") {
		t.Fatalf("verify-proof:\n%s", out)
	}
	consFile := filepath.Join(t.TempDir(), "cons.json")
	if err := os.WriteFile(consFile, []byte(mustRun(t, d, "audit", "consistency", "10", "25")), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "audit", "verify-proof", consFile, "--key", vkey)
	if _, err := run(t, d, "audit", "consistency", "11", "25"); err == nil {
		t.Fatal("a consistency proof from a size without a checkpoint")
	}
	if _, err := run(t, "audit", "verify-proof", proofFile); err == nil {
		t.Fatal("verify-proof without a key succeeded")
	}

	out = mustRun(t, d, "audit", "export", "--ocsf")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 25 {
		t.Fatalf("export: %d lines", len(lines))
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &ev); err != nil || ev["class_uid"] != float64(6003) {
		t.Fatalf("export line %s: %v", lines[0], err)
	}

	out = mustRun(t, d, "audit", "tail", "-n", "3", "--follow=false")
	if got := strings.Count(out, "\n"); got != 3 || !strings.HasPrefix(out, "22 ") {
		t.Fatalf("tail:\n%s", out)
	}

	// An edited byte makes verify fail and name the record.
	seg := filepath.Join(dataDir, audit.DirName, "00000000000000000000.seg")
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-10] ^= 1
	if err := os.WriteFile(seg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, d, "audit", "verify")
	if err == nil || !strings.Contains(out, "bad-record at record 24") {
		t.Fatalf("verify of an edited log: %v\n%s", err, out)
	}
}
