package main

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/config"
	"github.com/securecart/securecart/internal/deploy"
)

// TestServeArchivesTheAuditTrail runs the archiving serve starts beside
// the trail, stops both as serve does, and fetches and verifies what
// object storage holds: every record, up to the checkpoint written at
// close.
func TestServeArchivesTheAuditTrail(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	dd := "--data-dir=" + dataDir
	mustRun(t, dd, "keys", "list") // creates the deployment
	if _, err := run(t, dd, "audit", "verify", "--from-archive"); err == nil {
		t.Fatal("verify --from-archive with nothing archived succeeded")
	}

	cfg := config.Default()
	cfg.DataDir = dataDir
	d, err := deploy.Open(t.Context(), cfg, deploy.Options{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	trail, err := d.OpenAudit(audit.Options{CheckpointEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	stop, err := archiveAudit(t.Context(), d, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		r := &audit.Record{Phase: audit.PhaseRequest, Time: time.Now(), RequestID: "req-archive",
			Action: "readCustomer", Principal: audit.Principal{ID: "prn_dba", Kind: "person", Roles: []string{"dba"}},
			Resource: audit.Resource{Type: "Customer", ID: "cus_1"}, Decision: audit.Decision{Effect: audit.EffectAllow}}
		if _, err := trail.Append(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		if i == 10 {
			if _, err := trail.Checkpoint(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := trail.Close(); err != nil {
		t.Fatal(err)
	}
	stop()
	d.Close()

	fetched := filepath.Join(t.TempDir(), "fetched")
	out := mustRun(t, dd, "audit", "fetch", fetched)
	if !strings.Contains(out, "records 0 to 30; 2 checkpoints") {
		t.Fatalf("audit fetch:\n%s", out)
	}
	out = mustRun(t, dd, "audit", "verify", "--audit-dir", fetched, "--from", filepath.Join(fetched, startFile))
	if !strings.Contains(out, "30 verified") || !strings.HasSuffix(out, "ok\n") {
		t.Fatalf("audit verify of the fetched trail:\n%s", out)
	}
}

// TestAuditOriginFromConfig names a new log after the configured origin
// and refuses to open it under another.
func TestAuditOriginFromConfig(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.Audit.Origin = "node-1.shop.example/audit"
	open := func(cfg config.Config) (*audit.Log, error) {
		d, err := deploy.Open(t.Context(), cfg, deploy.Options{Getenv: func(string) string { return "" }})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		return d.OpenAudit(audit.Options{})
	}
	l, err := open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// The log has a checkpoint only once it holds a record.
	if o, err := audit.LogOrigin(filepath.Join(cfg.DataDir, audit.DirName)); err != nil || o != "" {
		t.Fatalf("origin of an empty log: %q %v", o, err)
	}
	l, err = open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(t.Context(), &audit.Record{Phase: audit.PhaseRequest, Time: time.Now(),
		RequestID: "req-1", Action: "readCustomer"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if o, err := audit.LogOrigin(filepath.Join(cfg.DataDir, audit.DirName)); err != nil || o != cfg.Audit.Origin {
		t.Fatalf("origin %q %v, want %q", o, err, cfg.Audit.Origin)
	}
	cfg.Audit.Origin = "node-2.shop.example/audit"
	if _, err := open(cfg); err == nil || !strings.Contains(err.Error(), "node-1.shop.example/audit") {
		t.Fatalf("opened under another origin: %v", err)
	}
}

// TestAuditVerifyFromArchive archives a log whose records are older than
// the online period, then verifies the online part from the boundary in
// object storage and the archive after fetching it.
func TestAuditVerifyFromArchive(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	dd := "--data-dir=" + dataDir
	mustRun(t, dd, "keys", "list") // creates the deployment

	cfg := config.Default()
	cfg.DataDir = dataDir
	d, err := deploy.Open(t.Context(), cfg, deploy.Options{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := d.Keys.AuditSigner(audit.DefaultOrigin)
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(d.AuditDir(), audit.Options{Origin: audit.DefaultOrigin, Signer: signer,
		CheckpointEvery: time.Hour, SegmentSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-200 * 24 * time.Hour)
	for i := range 60 {
		r := &audit.Record{Phase: audit.PhaseRequest, Time: old.Add(time.Duration(i) * time.Hour),
			RequestID: "req-old", Action: "readCustomer", Resource: audit.Resource{Type: "Customer", ID: "cus_1"},
			Principal: audit.Principal{ID: "prn_dba", Kind: "person", Roles: []string{"dba"}}}
		if _, err := l.Append(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		if i%5 == 4 {
			if _, err := l.Checkpoint(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	stop, err := archiveAudit(t.Context(), d, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	stop()
	d.Close()

	out := mustRun(t, dd, "audit", "verify", "--from-archive")
	if !strings.HasSuffix(out, "ok\n") || strings.HasPrefix(out, "records 0 ") {
		t.Fatalf("audit verify --from-archive: the online part should start after record 0:\n%s", out)
	}
	fetched := filepath.Join(t.TempDir(), "fetched")
	if out = mustRun(t, dd, "audit", "fetch", fetched); !strings.Contains(out, "records 0 to 60") {
		t.Fatalf("audit fetch:\n%s", out)
	}
	out = mustRun(t, dd, "audit", "verify", "--audit-dir", fetched, "--from", filepath.Join(fetched, startFile))
	if !strings.Contains(out, "60 verified") || !strings.HasSuffix(out, "ok\n") {
		t.Fatalf("audit verify of the fetched trail:\n%s", out)
	}
}

// TestAuditArchiveStartsWithoutObjectStorage starts the archiving with an
// S3 service that does not answer: serve must start anyway.
func TestAuditArchiveStartsWithoutObjectStorage(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.Storage = config.StorageConfig{Kind: config.StorageS3, Endpoint: "http://127.0.0.1:1", Region: "us-east-1",
		AccessKey: "ak", SecretKey: "sk"}
	d, err := deploy.Open(t.Context(), cfg, deploy.Options{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	trail, err := d.OpenAudit(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stop, err := archiveAudit(t.Context(), d, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("archiving refused to start without object storage: %v", err)
	}
	if err := trail.Close(); err != nil {
		t.Fatal(err)
	}
	stop()
}
