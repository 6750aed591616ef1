package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/deploy"
	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/scan/report"
	"github.com/securecart/securecart/internal/store"
)

func writeScanFixtures(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte("2024-06-11 INFO refund to IBAN GB29 NWBK 6016 1331 9268 19\n"))
	w.Close()
	for name, b := range map[string][]byte{
		"app.log":        []byte("INFO paid with card 4539 1488 0343 6467\nINFO from 10.0.0.7\n"),
		"old/app.log.gz": gz.Bytes(),
		"bin/tool":       {0x7f, 'E', 'L', 'F', 0, 0},
		"clean.txt":      []byte("nothing here\n"),
	} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestScanJSON(t *testing.T) {
	dir := writeScanFixtures(t)
	out, err := run(t, "scan", "--format", "json", dir)
	var found *report.FoundError
	if !errors.As(err, &found) || found.Count != 2 {
		t.Fatalf("scan err = %v, want 2 high findings\n%s", err, out)
	}
	var rep struct {
		Findings []struct {
			Detector, Object, Sample string
			Line, Column             int
		}
		Summary report.Summary
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out)
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, f.Detector+" "+filepath.Base(f.Object)+" "+f.Sample)
	}
	want := "card app.log ••••6467,ipv4 app.log 10.•.•.•,iban app.log.gz GB••…6819"
	if strings.Join(got, ",") != want {
		t.Errorf("findings %v, want %s", got, want)
	}
	if rep.Summary.Objects != 4 || len(rep.Summary.Skipped) != 1 {
		t.Errorf("summary = %+v", rep.Summary)
	}
	if strings.Contains(out, "4539") || strings.Contains(out, "NWBK") {
		t.Errorf("report shows a value in clear:\n%s", out)
	}
}

func TestScanFailOn(t *testing.T) {
	dir := writeScanFixtures(t)
	if _, err := run(t, "scan", "--fail-on", "none", dir); err != nil {
		t.Errorf("--fail-on none: %v", err)
	}
	if _, err := run(t, "scan", "--detectors", "ipv4", dir); err != nil {
		t.Errorf("only low findings, failing on high: %v", err)
	}
	_, err := run(t, "scan", "--detectors", "ipv4", "--fail-on", "low", dir)
	if code := exitCode(err); code != 1 {
		t.Errorf("a low finding with --fail-on low: exit %d (%v), want 1", code, err)
	}
	_, err = run(t, "scan", filepath.Join(dir, "no-such-file"))
	if code := exitCode(err); code != 2 {
		t.Errorf("a scan that cannot read its input: exit %d (%v), want 2", code, err)
	}
	out := mustRun(t, "scan", "--fail-on", "none", filepath.Join(dir, "clean.txt"))
	if !strings.HasPrefix(out, "0 findings in 1 objects") {
		t.Errorf("clean scan printed %q", out)
	}
}

func TestScanSARIF(t *testing.T) {
	dir := writeScanFixtures(t)
	out, _ := run(t, "scan", "--format", "sarif", dir)
	var log struct {
		Version string
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct{ ID string }
				}
			}
			Results []struct {
				RuleID    string
				Level     string
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine, StartColumn int }
					}
				}
			}
			Invocations []struct {
				ToolExecutionNotifications []struct{ Message struct{ Text string } }
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil {
		t.Fatalf("SARIF is not JSON: %v\n%s", err, out)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("SARIF version %q with %d runs", log.Version, len(log.Runs))
	}
	r := log.Runs[0]
	if len(r.Results) != 3 || r.Results[0].RuleID != "card" || r.Results[0].Level != "error" {
		t.Fatalf("results = %+v", r.Results)
	}
	loc := r.Results[0].Locations[0].PhysicalLocation
	if !strings.HasSuffix(loc.ArtifactLocation.URI, "/app.log") || loc.Region.StartLine != 1 || loc.Region.StartColumn != 21 {
		t.Errorf("location = %+v", loc)
	}
	if len(r.Tool.Driver.Rules) < 14 || len(r.Invocations[0].ToolExecutionNotifications) != 1 {
		t.Errorf("rules %d, notifications %+v", len(r.Tool.Driver.Rules), r.Invocations)
	}
}

func TestScanRulesFile(t *testing.T) {
	dir := writeScanFixtures(t)
	keyFile := filepath.Join(dir, "allow.key")
	os.WriteFile(keyFile, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)

	cmd := newRoot()
	var mac bytes.Buffer
	cmd.SetOut(&mac)
	cmd.SetIn(strings.NewReader("4539-1488-0343-6467\n"))
	cmd.SetArgs([]string{"scan", "hmac", "--key-file", keyFile})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}

	rules := filepath.Join(dir, "rules.json")
	os.WriteFile(rules, []byte(`{
		"allow": {"hmac_key_file": "allow.key", "values": ["`+strings.TrimSpace(mac.String())+`"],
		          "paths": ["**/*.gz"]},
		"custom": [{"name": "employee_id", "severity": "low", "prefix": "EMP-",
		            "pattern": "EMP-[0-9]{6}", "keywords": ["employee"]}]
	}`), 0o644)
	os.WriteFile(filepath.Join(dir, "hr.txt"), []byte("employee EMP-123456\n"+strings.Repeat("-", 60)+" ref EMP-654321\n"), 0o644)

	out, err := run(t, "scan", "--rules", rules, "--format", "json", dir)
	if err != nil {
		t.Fatalf("scan: %v\n%s", err, out)
	}
	if strings.Contains(out, `"card"`) || strings.Contains(out, `"iban"`) {
		t.Errorf("allow-listed findings reported:\n%s", out)
	}
	if strings.Count(out, `"employee_id"`) != 2 { // the finding and the summary
		t.Errorf("custom detector: want one employee_id finding:\n%s", out)
	}
}

func TestScanBucket(t *testing.T) {
	dataDir := t.TempDir()
	if err := os.Chmod(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := objstore.NewLocal(filepath.Join(dataDir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st.Put(ctx, objstore.Logs, "app/1.log", []byte("card 4539 1488 0343 6467\n"), objstore.Standard)
	st.Put(ctx, objstore.Logs, "web/1.log", []byte("ssn 123-45-6789\n"), objstore.Standard)

	out, err := run(t, "scan", "--data-dir", dataDir, "--bucket", "logs/app/", "--format", "json")
	var found *report.FoundError
	if !errors.As(err, &found) || found.Count != 1 {
		t.Fatalf("scan --bucket: %v\n%s", err, out)
	}
	if !strings.Contains(out, `"object":"objstore://logs/app/1.log"`) || strings.Contains(out, "web/1.log") {
		t.Errorf("report:\n%s", out)
	}
}

// TestScanBucketOpensBackups scans the backups bucket, whose objects
// SecureCart sealed, and a bucket of the shop's beside it.
func TestScanBucketOpensBackups(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	d := "--data-dir=" + dir
	mustRun(t, d, "keys", "list")

	ctx := context.Background()
	dep := openDeployment(t, dir)
	if _, err := dep.Store.CreateProduct(ctx, store.NewProduct{SKU: "GIFT-1", Name: "Gift card",
		Description: "sample card 4539 1488 0343 6467", Price: 1200, Currency: "EUR", Stock: 5}); err != nil {
		t.Fatal(err)
	}
	dep.Close()
	mustRun(t, d, "backup", "snapshot")

	exports := filepath.Join(dir, "objects", "shop-exports")
	if err := os.MkdirAll(exports, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(exports, "users.csv"), []byte("mail,jane.doe@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	out, err := run(t, d, "scan", "--bucket", "backups", "--bucket", "shop-exports", "--format", "json", "--fail-on", "medium")
	var found *report.FoundError
	if !errors.As(err, &found) {
		t.Fatalf("scan --bucket: %v\n%s", err, out)
	}
	var rep struct {
		Findings []struct{ Detector, Object, Sample string }
		Objects  []struct{ Name, Skipped string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out)
	}
	seen := map[string]bool{}
	for _, f := range rep.Findings {
		switch {
		case f.Detector == "card" && strings.HasPrefix(f.Object, "objstore://backups/") && f.Sample == "••••6467":
			seen["backup"] = true
		case f.Object == "objstore://shop-exports/users.csv" && f.Sample == "j•••@example.com":
			seen["export"] = true
		}
	}
	if !seen["backup"] || !seen["export"] {
		t.Errorf("findings %+v lack the card in the sealed backup or the email in the export", rep.Findings)
	}
	for _, o := range rep.Objects {
		if strings.Contains(o.Skipped, "sealed") {
			t.Errorf("%s was not opened: %s", o.Name, o.Skipped)
		}
	}
	if strings.Contains(out, "4539") || strings.Contains(out, "jane.doe") {
		t.Errorf("report shows a value in clear:\n%s", out)
	}
}

// The audit trail's shipped segments are sealed; a bucket scan opens them
// and reads their records.
func TestScanBucketOpensAuditTrail(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	mustRun(t, "--data-dir="+dir, "keys", "list")

	ctx := context.Background()
	dep := openDeployment(t, dir)
	trail, err := dep.OpenAudit(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		rec := &audit.Record{Phase: audit.PhaseRequest, Time: time.Now(), RequestID: fmt.Sprintf("req-%d", i),
			Source: audit.Source{Address: "203.0.113.9:443"}, Action: "readCustomer",
			Resource: audit.Resource{Type: "Customer", ID: fmt.Sprintf("cus_%d", i)}}
		if _, err := trail.Append(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := trail.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	obj, err := deploy.OpenObjects(ctx, dep.Config)
	if err != nil {
		t.Fatal(err)
	}
	arch, err := dep.AuditArchiver(ctx, obj, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := arch.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	trail.Close()
	dep.Close()

	// The records hold the caller's address, which the IPv4 detector
	// finds only once the segment is opened.
	out := mustRun(t, "--data-dir="+dir, "scan", "--bucket", "audit", "--detectors", "ipv4",
		"--format", "json", "--fail-on", "none")
	var rep struct {
		Findings []struct{ Detector, Object string }
		Objects  []struct{ Name, Skipped string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out)
	}
	for _, o := range rep.Objects {
		t.Errorf("%s skipped: %s", o.Name, o.Skipped)
	}
	found := 0
	for _, f := range rep.Findings {
		if f.Detector == "ipv4" && strings.Contains(f.Object, "/seg/") {
			found++
		}
	}
	if found != 5 {
		t.Fatalf("%d addresses found in the shipped segment, want 5:\n%s", found, out)
	}
}

func TestScanStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	mustRun(t, "--data-dir="+dir, "keys", "list") // creates the deployment

	ctx := context.Background()
	d := openDeployment(t, dir)
	c, err := d.Store.CreateCustomer(ctx, store.NewCustomer{Name: "Jane Doe", Email: "jane.doe@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Store.CreateProduct(ctx, store.NewProduct{SKU: "MUG-1", Name: "Mug",
		Description: "Questions? Write to shop.owner@example.com", Price: 1200, Currency: "EUR", Stock: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Store.CreateOrder(ctx, store.NewOrder{CustomerID: c.ID, Currency: "EUR",
		Lines: []store.NewOrderLine{{SKU: "MUG-1", Quantity: 1}},
		Notes: "please charge my visa 4539 1488 0343 6467"}); err != nil {
		t.Fatal(err)
	}
	d.Close()

	out, err := run(t, "--data-dir="+dir, "scan", "--store", "--format", "json")
	var found *report.FoundError
	if !errors.As(err, &found) || found.Count != 1 {
		t.Fatalf("scan --store: %v\n%s", err, out)
	}
	for _, want := range []string{`"object":"store:products/`, `/description"`, `"sample":"s•••@example.com"`,
		`/notes"`, `"sample":"••••6467"`} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "jane.doe") || strings.Contains(out, "4539") {
		t.Errorf("report shows customer data or a value in clear:\n%s", out)
	}
}
