package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAuditDefaults(t *testing.T) {
	c := Default()
	want := AuditConfig{CheckpointInterval: time.Second, ShipInterval: time.Minute, Online: 90 * Day, Retention: 365 * Day}
	if c.Audit != want {
		t.Fatalf("audit = %+v, want %+v", c.Audit, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestAuditFromFileAndEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.json")
	body := `{"audit": {"checkpoint_interval": "5s", "ship_interval": "30s", "online": "30d", "retention": "4380h",
		"origin": "node-3.shop.example/audit"}}`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Default()
	if err := c.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SECURECART_AUDIT_RETENTION": "400d", "SECURECART_AUDIT_CHECKPOINT_INTERVAL": "250ms"}
	if err := c.FromEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	want := AuditConfig{CheckpointInterval: 250 * time.Millisecond, ShipInterval: 30 * time.Second,
		Online: 30 * Day, Retention: 400 * Day, Origin: "node-3.shop.example/audit"}
	if c.Audit != want {
		t.Fatalf("audit = %+v, want %+v", c.Audit, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestAuditRefusesBadPeriods(t *testing.T) {
	cases := []struct {
		a    AuditConfig
		want string
	}{
		{AuditConfig{CheckpointInterval: time.Millisecond, ShipInterval: time.Minute, Online: 90 * Day, Retention: 365 * Day}, "checkpoint interval"},
		{AuditConfig{CheckpointInterval: 2 * time.Hour, ShipInterval: time.Minute, Online: 90 * Day, Retention: 365 * Day}, "checkpoint interval"},
		{AuditConfig{CheckpointInterval: time.Second, ShipInterval: time.Millisecond, Online: 90 * Day, Retention: 365 * Day}, "ship interval"},
		{AuditConfig{CheckpointInterval: time.Second, ShipInterval: time.Minute, Online: Day, Retention: 365 * Day}, "online period"},
		{AuditConfig{CheckpointInterval: time.Second, ShipInterval: time.Minute, Online: 90 * Day, Retention: 30 * Day}, "retention"},
		{AuditConfig{CheckpointInterval: time.Second, ShipInterval: time.Minute, Online: 90 * Day, Retention: 11 * 365 * Day}, "retention"},
		{AuditConfig{CheckpointInterval: time.Second, ShipInterval: time.Minute, Online: 90 * Day, Retention: 365 * Day, Origin: "a b"}, "origin"},
		{AuditConfig{CheckpointInterval: time.Second, ShipInterval: time.Minute, Online: 90 * Day, Retention: 365 * Day, Origin: "../x"}, "origin"},
	}
	for _, tc := range cases {
		c := Default()
		c.Audit = tc.a
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error about the %s", tc.a, err, tc.want)
		}
	}
	c := Default()
	for _, v := range []string{"90x", "-3d", "d", "99999999d"} {
		if err := c.FromEnv(func(k string) string {
			if k == "SECURECART_AUDIT_ONLINE" {
				return v
			}
			return ""
		}); err == nil {
			t.Errorf("SECURECART_AUDIT_ONLINE=%s accepted", v)
		}
	}
}
