package server_test

import (
	"context"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/backup"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/server"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
)

// TestBackupsAPI serves the backup status and a record restore from a
// real shipper and object storage, and checks the trail names the
// customer restored.
func TestBackupsAPI(t *testing.T) {
	ctx := context.Background()
	eng := sqldbtest.Engines()[0]
	h := eng.Open(t)
	root := filepath.Join(t.TempDir(), "root.key")
	ks, err := keys.Open(ctx, h.DB, &keys.FileProvider{Path: root}, keys.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ks.Close)
	s, err := store.Open(ctx, h.DB, ks)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := objstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sh, err := backup.NewShipper(ctx, s, ks, obj, backup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	runner := backup.NewRunner(sh, obj, backup.RunnerOptions{
		Scratch:  func(context.Context) (sqldb.DB, func(), error) { return eng.Open(t).DB, func() {}, nil },
		Provider: func(sqldb.DB) (keys.Provider, error) { return &keys.FileProvider{Path: root}, nil },
	})
	pe, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	log, _ := openTrail(t)
	api := server.New(server.Deps{Store: s, Policy: pe, Identity: principals, Audit: log, Backups: runner,
		Networks: map[string][]netip.Prefix{policy.NetworkApplication: {netip.MustParsePrefix("10.0.0.0/8")}}})
	srv := httptest.NewServer(api)
	t.Cleanup(func() {
		srv.Close()
		api.Close()
		log.Close()
	})
	f := &fixture{t: t, srv: srv, s: s}

	c, err := s.CreateCustomer(ctx, store.NewCustomer{Name: "Grace Hopper", Email: "grace@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sh.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sh.ShipOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := runner.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	asOf := time.Now().UTC()
	time.Sleep(5 * time.Millisecond)
	renamed := "Amazing Grace"
	if _, err := s.UpdateCustomer(ctx, c.ID, c.Version, store.CustomerPatch{Name: &renamed}); err != nil {
		t.Fatal(err)
	}

	code, st := f.do("dba", "GET", "/v1/backups/status", nil)
	if code != 200 {
		t.Fatalf("status: %d %v", code, st)
	}
	lv, _ := st["last_verify"].(map[string]any)
	win, _ := st["window"].(map[string]any)
	if st["deployment"] != sh.Deployment() || lv["ok"] != true || win["snapshots"] != 1.0 || win["from"] == nil {
		t.Fatalf("status %v", st)
	}
	if code, _ := f.do("dev", "GET", "/v1/backups/status", nil); code != 403 {
		t.Fatalf("status as developer: %d", code)
	}

	body := map[string]any{"record": "customers/" + c.ID, "as_of": asOf.Format(time.RFC3339Nano)}
	code, res := f.do("dba", "POST", "/v1/backups/restore-record", body)
	if code != 200 || res["created"] != false || res["id"] != c.ID {
		t.Fatalf("restore-record: %d %v", code, res)
	}
	if got, err := s.GetCustomer(ctx, c.ID); err != nil || got.Name != "Grace Hopper" {
		t.Fatalf("customer after restore-record: %+v, %v", got, err)
	}
	for _, bad := range []map[string]any{
		{"record": "orders/ord_1", "as_of": asOf.Format(time.RFC3339)},
		{"record": "customers/" + c.ID, "as_of": time.Now().Add(time.Hour).Format(time.RFC3339)},
	} {
		if code, _ := f.do("dba", "POST", "/v1/backups/restore-record", bad); code != 400 {
			t.Fatalf("restore-record %v: %d", bad, code)
		}
	}
	missing := map[string]any{"record": "customers/cus_00000000000000000000000000", "as_of": asOf.Format(time.RFC3339Nano)}
	if code, p := f.do("dba", "POST", "/v1/backups/restore-record", missing); code != 404 || p["code"] != "not_in_backup" {
		t.Fatalf("restore-record of a customer never backed up: %d %v", code, p)
	}

	api.Close()
	found := false
	for e, err := range log.Reader().Scan(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		r := e.Record
		if r.Phase == audit.PhaseRequest && r.Action == policy.ManageBackups && r.Resource.ID == c.ID &&
			r.Purpose == "restore-record" && r.Principal.ID == "prn_dba" {
			found = true
		}
	}
	if !found {
		t.Fatal("no audit record names the customer restored")
	}
}
