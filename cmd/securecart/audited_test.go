package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/keys"
)

// trailRec is what the tests check of a record.
type trailRec struct {
	Seq, RequestSeq uint64
	Phase           audit.Phase
	RequestID       string
	Action          string
	Principal       string
	UserAgent       string
	Resource        audit.Resource
	Status          int
	ErrorCode       string
}

// trailRecords reads every record of the audit trail in dir.
func trailRecords(t *testing.T, dir string) []trailRec {
	t.Helper()
	var out []trailRec
	for e, err := range audit.NewReader(dir).Scan(t.Context(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		r := e.Record
		out = append(out, trailRec{Seq: e.Seq, RequestSeq: r.RequestSeq, Phase: r.Phase, RequestID: r.RequestID,
			Action: r.Action, Principal: r.Principal.ID, UserAgent: r.Source.UserAgent, Resource: r.Resource,
			Status: r.Outcome.Status, ErrorCode: r.Outcome.ErrorCode})
	}
	return out
}

// TestHostCommandsRecordThemselves runs every command that changes a
// deployment directly and finds each in the trail: a request record, then
// an outcome record naming it, as the local operator.
func TestHostCommandsRecordThemselves(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("SECURECART_ROOT_KEY_FILE", filepath.Join(t.TempDir(), "root.key"))
	t.Setenv(recoveryEnv, "correct horse battery staple recovery")
	d := "--data-dir=" + dir
	mustRun(t, d, "keys", "list")

	type step struct {
		args   []string
		action string
		res    audit.Resource
	}
	steps := []step{
		{[]string{"keys", "backup", "--out", filepath.Join(t.TempDir(), "ks.bak")}, audit.ActionSnapshot, keystoreRes},
		{[]string{"keys", "rotate-root"}, audit.ActionRotateRoot, rootKeyRes},
		{[]string{"keys", "export-root", "--out", filepath.Join(t.TempDir(), "root.exp")}, audit.ActionExportRoot,
			rootKeyRes},
		{[]string{"admin", "recover"}, audit.ActionAdminRecover, audit.Resource{Type: "Collection", ID: "principals"}},
		{[]string{"backup", "snapshot"}, audit.ActionSnapshot, backupsRes},
		{[]string{"backup", "verify"}, audit.ActionVerifyBackup, backupsRes},
		{[]string{"backup", "restore", "--to", "latest", "--into", filepath.Join(t.TempDir(), "restored")},
			audit.ActionRestore, audit.Resource{Type: "Backup"}},
	}
	for _, s := range steps {
		if out, err := run(t, append([]string{d}, s.args...)...); err != nil {
			t.Fatalf("securecart %s: %v\n%s", strings.Join(s.args, " "), err, out)
		}
	}

	recs := trailRecords(t, filepath.Join(dir, audit.DirName))
	if len(recs) != 2*len(steps) {
		t.Fatalf("%d records for %d commands", len(recs), len(steps))
	}
	for i, s := range steps {
		req, out := recs[2*i], recs[2*i+1]
		name := strings.Join(s.args[:2], " ")
		if s.res.ID == "" {
			s.res.ID = req.Resource.ID // the deployment id of the backups
		}
		if req.Phase != audit.PhaseRequest || req.Action != s.action || req.Resource != s.res ||
			req.Principal != audit.Operator.ID || req.UserAgent != "securecart "+name {
			t.Errorf("%s: request record %+v", name, req)
		}
		if out.Phase != audit.PhaseOutcome || out.RequestSeq != req.Seq || out.RequestID != req.RequestID ||
			out.Status != audit.StatusDone {
			t.Errorf("%s: outcome record %+v", name, out)
		}
	}
}

// TestRestoreNeedsTheRootKeyFirst: on a host with no root key, a restore
// refuses before it creates a deployment (and a new root key) to record
// itself in.
func TestRestoreNeedsTheRootKeyFirst(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	key := filepath.Join(t.TempDir(), "root.key")
	t.Setenv("SECURECART_ROOT_KEY_FILE", key)
	_, err := run(t, "--data-dir="+dir, "backup", "restore", "--to", "latest", "--into", filepath.Join(t.TempDir(), "r"))
	var h *keys.HintedError
	if !errors.As(err, &h) || !strings.Contains(h.Hint, "keys import-root") {
		t.Fatalf("restore without a root key: %v", err)
	}
	if _, err := os.Stat(key); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused restore left a root key file: %v", err)
	}
}

// TestHostCommandRefusedWhileServed: with the trail held by another
// process (a running server), a command refuses, with a hint, and changes
// nothing.
func TestHostCommandRefusedWhileServed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("SECURECART_ROOT_KEY_FILE", filepath.Join(t.TempDir(), "root.key"))
	d := "--data-dir=" + dir
	mustRun(t, d, "keys", "list")

	dep := openDeployment(t, dir)
	defer dep.Close()
	held, err := dep.OpenAudit(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	root := dep.Keys.Root().ID()
	_, err = run(t, d, "keys", "rotate-root")
	var h *keys.HintedError
	if !errors.Is(err, audit.ErrLocked) || !errors.As(err, &h) || !strings.Contains(h.Hint, "stop it") {
		t.Fatalf("keys rotate-root with the trail held: %v", err)
	}
	if id, err := keys.RootID(t.Context(), dep.DB); err != nil || id != root {
		t.Fatalf("a refused root rotation left root key %s (was %s), %v", id, root, err)
	}
}

// TestScheduledMaintenanceIsRecorded runs a server's key maintenance hook
// over a real trail: a rotation and a sweep run between their records, as
// the server's own actions.
func TestScheduledMaintenanceIsRecorded(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("SECURECART_ROOT_KEY_FILE", filepath.Join(t.TempDir(), "root.key"))
	dep := openDeployment(t, dir)
	defer dep.Close()
	trail, err := dep.OpenAudit(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	around := auditedMaintenance(trail)
	ran := 0
	for _, job := range []keys.Job{{Name: keys.JobRotate, Domain: envelope.Backup}, {Name: keys.JobSweepOrphans}} {
		err = around(t.Context(), job, func(ctx context.Context) error {
			if n := len(trailRecords(t, dep.AuditDir())); n != 2*ran+1 {
				t.Errorf("%s runs with %d records in the trail, want its request record last", job.Name, n)
			}
			ran++
			if job.Name == keys.JobRotate {
				_, err := dep.Keys.Rotate(ctx, job.Domain)
				return err
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := trail.Close(); err != nil {
		t.Fatal(err)
	}
	recs := trailRecords(t, dep.AuditDir())
	if len(recs) != 4 || recs[0].Action != audit.ActionRotateKey || recs[0].Principal != audit.System.ID ||
		recs[0].Resource != (audit.Resource{Type: "KeyDomain", ID: "backup"}) || recs[0].UserAgent != "securecart serve" ||
		recs[1].Status != audit.StatusDone || recs[2].Action != audit.ActionSweepKeys ||
		recs[2].Resource != keystoreRes || recs[3].Status != audit.StatusDone {
		t.Fatalf("trail of the maintenance: %+v", recs)
	}
	if v, _ := dep.Keys.ActiveVersion(envelope.Backup); v != 2 {
		t.Fatalf("backup key at version %d after the rotation", v)
	}
}
