package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestStorageDefaults(t *testing.T) {
	c := Default()
	if c.Storage.Kind != StorageLocal || c.ObjectDir() != filepath.Join(c.DataDir, "objects") {
		t.Fatalf("storage = %+v", c.Storage)
	}
	if c.Backup.ShipInterval != time.Second || c.Backup.Retention != 7*24*time.Hour ||
		c.Backup.VerifyInterval != 7*24*time.Hour {
		t.Fatalf("backup = %+v", c.Backup)
	}
}

func TestStorageFromEnvAndFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.json")
	body := `{"storage": {"kind": "s3", "s3_endpoint": "https://s3.example.com", "s3_region": "eu-west-1",
		"s3_bucket_prefix": "shop-"}, "backup": {"ship_interval": "500ms", "retention": "720h",
		"verify_interval": "24h"}}`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Default()
	if err := c.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil {
		t.Fatal("S3 without credentials accepted")
	}
	env := map[string]string{S3AccessKeyEnv: "ak", S3SecretKeyEnv: "sk", "SECURECART_BACKUP_RETENTION": "240h"}
	if err := c.FromEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	s := c.Storage
	if s.Endpoint != "https://s3.example.com" || s.BucketPrefix != "shop-" || s.AccessKey != "ak" ||
		c.Backup.ShipInterval != 500*time.Millisecond || c.Backup.Retention != 240*time.Hour ||
		c.Backup.VerifyInterval != 24*time.Hour {
		t.Fatalf("config = %+v %+v", c.Storage, c.Backup)
	}
}

func TestStorageRefusesUnsafe(t *testing.T) {
	cases := map[string]func(*Config){
		"unknown kind": func(c *Config) { c.Storage.Kind = "ftp" },
		"plain http": func(c *Config) {
			c.Storage = StorageConfig{Kind: StorageS3, Endpoint: "http://s3.example.com", AccessKey: "a", SecretKey: "b"}
		},
		"retention 36d":    func(c *Config) { c.Backup.Retention = 36 * 24 * time.Hour },
		"ship every 10ms":  func(c *Config) { c.Backup.ShipInterval = 10 * time.Millisecond },
		"snapshot per sec": func(c *Config) { c.Backup.SnapshotInterval = time.Second },
		"verify per min":   func(c *Config) { c.Backup.VerifyInterval = time.Minute },
	}
	for name, mutate := range cases {
		c := Default()
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
