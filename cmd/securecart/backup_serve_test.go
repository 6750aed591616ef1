package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/backup"
	"github.com/securecart/securecart/internal/client"
	"github.com/securecart/securecart/internal/config"
	"github.com/securecart/securecart/internal/deploy"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/server"
)

// TestBackupsOnARunningServer starts serve and checks that it ships,
// snapshots and verifies on its own, that a dba sees that with backup
// status, and that restore-record brings a changed customer back through
// the API, each step in the audit trail.
func TestBackupsOnARunningServer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("SECURECART_BACKUP_SHIP_INTERVAL", "200ms")
	ctx := t.Context()
	srv := startServe(t, dir)
	url, bootstrap, out := srv.url, srv.bootstrap, srv.out
	principals := []string{"--data-dir", dir, "principals", "--url", url}
	t.Setenv("SECURECART_API_KEY", bootstrap)
	t.Setenv("SECURECART_API_KEY", enrolAdmin(t, dir, url, principals))
	dba := keyRE.FindString(mustRun(t, append(principals, "create", "--name", "ops-dba", "--role", "dba")...))
	dev := keyRE.FindString(mustRun(t, append(principals, "create", "--name", "ops-dev", "--role", "developer")...))
	t.Setenv("SECURECART_API_KEY", dba)

	c, err := client.New(url, dba, filepath.Join(dir, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	var cus server.CustomerView
	err = c.Do(ctx, "POST", "/v1/customers", map[string]any{"name": "Ada Lovelace", "email": "ada@example.com"}, &cus)
	if err != nil {
		t.Fatal(err)
	}

	// The server verifies a deployment never verified once its first
	// snapshot exists.
	status := []string{"--data-dir", dir, "backup", "status", "--url", url}
	for deadline := time.Now().Add(time.Minute); ; {
		got := mustRun(t, status...)
		if strings.Contains(got, "last verification: OK") && strings.Contains(got, "1 snapshots") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no verification on a running server:\n%s\nserver:\n%s", got, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}

	// The metrics carry the same state.
	pem, err := os.ReadFile(filepath.Join(dir, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	// The customer reaches object storage within a ship interval or two.
	m := scrapeMetrics(t, hc, url, dev)
	for deadline := time.Now().Add(30 * time.Second); m["backup_shipped_position"] < 1 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		m = scrapeMetrics(t, hc, url, dev)
	}
	if m["backup_verify_last_success"] != 1 || m["backup_shipped_position"] < 1 ||
		m["backup_last_snapshot_timestamp_seconds"] < float64(time.Now().Add(-time.Hour).Unix()) {
		t.Errorf("backup metrics: success %v, shipped %v, last snapshot %v", m["backup_verify_last_success"],
			m["backup_shipped_position"], m["backup_last_snapshot_timestamp_seconds"])
	}
	if _, ok := m["backup_shipping_lag_seconds"]; !ok {
		t.Error("no backup_shipping_lag_seconds")
	}

	time.Sleep(10 * time.Millisecond)
	asOf := time.Now().UTC()
	time.Sleep(10 * time.Millisecond)
	var changed server.CustomerView
	err = c.Do(ctx, "PATCH", "/v1/customers/"+cus.ID, map[string]any{"version": cus.Version, "name": "Someone Else"}, &changed)
	if err != nil {
		t.Fatal(err)
	}
	got := mustRun(t, "--data-dir", dir, "backup", "restore-record", "customers/"+cus.ID, "--url", url,
		"--as-of", asOf.Format(time.RFC3339Nano))
	if !strings.Contains(got, "overwrote the live record") {
		t.Fatalf("restore-record:\n%s", got)
	}
	if _, err := run(t, "--data-dir", dir, "backup", "restore-record", "orders/x", "--url", url, "--as-of", "-1m"); err == nil {
		t.Fatal("restore-record of an order succeeded")
	}

	srv.stop(t)

	// The name is back, and the trail holds the server's own snapshot and
	// verification and the dba's restore.
	cfg := config.Default()
	cfg.DataDir = dir
	d, err := deploy.Open(context.Background(), cfg, deploy.Options{Getenv: os.Getenv})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	back, err := d.Store.GetCustomer(context.Background(), cus.ID)
	if err != nil || back.Name != "Ada Lovelace" {
		t.Fatalf("customer after restore-record: %+v, %v", back, err)
	}
	if v, err := backup.LastVerify(context.Background(), d.DB); err != nil || v == nil || !v.OK {
		t.Fatalf("last verification %+v, %v", v, err)
	}
	seen := map[string]bool{}
	for e, err := range audit.NewReader(d.AuditDir()).Scan(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		r := e.Record
		switch {
		case r.Phase == audit.PhaseRequest && r.Principal.ID == audit.System.ID:
			seen[r.Action] = true
		case r.Phase == audit.PhaseRequest && r.Action == policy.ManageBackups && r.Resource.ID == cus.ID:
			seen["restore "+cus.ID] = true
		}
	}
	for _, want := range []string{audit.ActionSnapshot, audit.ActionVerifyBackup, "restore " + cus.ID} {
		if !seen[want] {
			t.Errorf("the trail lacks %s: %v", want, seen)
		}
	}
}
