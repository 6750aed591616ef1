package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultsAreValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !c.RootKeyInDataDir() {
		t.Fatal("default root key should sit in the data directory")
	}
}

func TestEnvOverrides(t *testing.T) {
	env := map[string]string{
		"SECURECART_DATA_DIR":      "/var/lib/sc",
		"SECURECART_DATABASE":      "postgres://db/sc",
		"SECURECART_ROOT_KEY_FILE": "/etc/securecart/root.key",
		"SECURECART_CRYPTO_PERIOD": "720h",
	}
	c := Default()
	if err := c.FromEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/var/lib/sc" || !c.IsPostgres() || c.KeyFile() != "/etc/securecart/root.key" ||
		c.CryptoPeriod != 720*time.Hour || c.RootKeyInDataDir() {
		t.Fatalf("config = %+v", c)
	}
	bad := Default()
	if err := bad.FromEnv(func(k string) string {
		if k == "SECURECART_CRYPTO_PERIOD" {
			return "soon"
		}
		return ""
	}); err == nil {
		t.Fatal("bad duration accepted")
	}
}

func TestValidateRefusesUnsafe(t *testing.T) {
	cases := map[string]func(*Config){
		"no data dir":    func(c *Config) { c.DataDir = "" },
		"bad database":   func(c *Config) { c.Database = "mysql://x" },
		"bad provider":   func(c *Config) { c.RootKeyProvider = "env" },
		"short period":   func(c *Config) { c.CryptoPeriod = time.Hour },
		"long period":    func(c *Config) { c.CryptoPeriod = 5 * 365 * 24 * time.Hour },
		"tiny key cache": func(c *Config) { c.KeyCacheSize = 1 },
	}
	for name, mutate := range cases {
		c := Default()
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestEnsureDataDir(t *testing.T) {
	c := Default()
	c.DataDir = filepath.Join(t.TempDir(), "data")
	if err := c.EnsureDataDir(); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(c.DataDir)
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("mode %o", fi.Mode().Perm())
	}
	os.Chmod(c.DataDir, 0o755)
	if err := c.EnsureDataDir(); err == nil || !strings.Contains(err.Error(), "chmod 700") {
		t.Fatalf("world-readable data dir: %v", err)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "securecart.json")
	os.WriteFile(path, []byte(`{
  "data_dir": "/var/lib/securecart",
  "root_key_file": "/etc/securecart/root.key",
  "crypto_period": "2160h",
  "serve": {
    "listen": "0.0.0.0:443",
    "hostnames": ["shop.example.com"],
    "networks": {"application": ["10.1.0.0/16"]},
    "rate_limits": {"developer": {"rate": 5, "burst": 10}}
  }
}`), 0o600)
	c := Default()
	if err := c.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/var/lib/securecart" || c.KeyFile() != "/etc/securecart/root.key" ||
		c.CryptoPeriod != 2160*time.Hour || c.Serve.Listen != "0.0.0.0:443" ||
		c.Serve.Hostnames[0] != "shop.example.com" || c.Serve.Networks["application"][0] != "10.1.0.0/16" ||
		c.Serve.RateLimits["developer"] != (RateLimit{Rate: 5, Burst: 10}) || c.Database != "sqlite" {
		t.Fatalf("config = %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}

	bad := map[string]string{
		"unknown field": `{"data_dri": "x"}`,
		"trailing":      `{"data_dir": "x"} {}`,
		"bad duration":  `{"crypto_period": "a year"}`,
		"wrong type":    `{"key_cache_size": "big"}`,
		"zero rate":     `{"serve": {"rate_limits": {"dba": {"rate": 0, "burst": 1}}}}`,
		"not json":      `data_dir = "x"`,
	}
	for name, body := range bad {
		p := filepath.Join(dir, "bad.json")
		os.WriteFile(p, []byte(body), 0o600)
		c := Default()
		if err := c.LoadFile(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	missing := Default()
	if err := missing.LoadFile(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing file was accepted")
	}
}

func TestDisableServiceKeys(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		body string
		want bool
	}{
		{`{}`, false},
		{`{"serve": {"disable_service_keys": true}}`, true},
		{`{"serve": {"disable_service_keys": false}}`, false},
	} {
		p := filepath.Join(dir, "c.json")
		os.WriteFile(p, []byte(tc.body), 0o600)
		c := Default()
		if err := c.LoadFile(p); err != nil {
			t.Fatal(err)
		}
		if c.Serve.DisableServiceKeys != tc.want {
			t.Errorf("%s: disable_service_keys = %v", tc.body, c.Serve.DisableServiceKeys)
		}
	}
	p := filepath.Join(dir, "bad.json")
	os.WriteFile(p, []byte(`{"serve": {"disable_service_keys": "yes"}}`), 0o600)
	c := Default()
	if err := c.LoadFile(p); err == nil {
		t.Error("a string was accepted for a boolean")
	}
}
