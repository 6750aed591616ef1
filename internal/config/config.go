// Package config holds SecureCart's settings, their safe defaults, and the
// checks that refuse unsafe ones.
//
// Settings come from a JSON file (--config or SECURECART_CONFIG), then
// environment variables (SECURECART_*), then flags: each overrides the one
// before. Every setting has a default that is safe on a laptop: SQLite and a
// root key file in the data directory. For production the root key belongs
// outside the data directory (RootKeyFile, or the passphrase provider), so
// that no single copy holds both the data and every key.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Root key providers.
const (
	ProviderFile       = "file"
	ProviderPassphrase = "passphrase"
)

// PassphraseEnv is the environment variable the passphrase provider reads
// before it prompts.
const PassphraseEnv = "SECURECART_ROOT_PASSPHRASE"

// Config is a deployment's settings.
type Config struct {
	// DataDir holds the SQLite database, the root key file by default, and
	// (later) the audit segments and local object storage.
	DataDir string
	// Database is "sqlite" (the file DataDir/securecart.db) or a PostgreSQL
	// DSN (postgres://...).
	Database string
	// RootKeyProvider is "file" or "passphrase".
	RootKeyProvider string
	// RootKeyFile is the file provider's key; default DataDir/root.key.
	RootKeyFile string
	// CryptoPeriod is how long a key-encryption key version stays active.
	CryptoPeriod time.Duration
	// KeyCacheSize bounds the unwrapped data keys kept in memory.
	KeyCacheSize int
	// Serve is how `securecart serve` listens.
	Serve ServeConfig
	// Storage is where objects go; Backup is how the data is backed up.
	Storage StorageConfig
	Backup  BackupConfig
	// Audit is how long the audit trail is kept online and at all.
	Audit AuditConfig
}

// Default returns the laptop defaults.
func Default() Config {
	return Config{
		DataDir:         "securecart-data",
		Database:        "sqlite",
		RootKeyProvider: ProviderFile,
		CryptoPeriod:    365 * 24 * time.Hour,
		KeyCacheSize:    65536,
		Serve:           ServeConfig{Listen: "127.0.0.1:8443"},
		Storage:         defaultStorage(),
		Backup:          defaultBackup(),
		Audit:           defaultAudit(),
	}
}

// FromEnv overrides c with the SECURECART_* variables that are set.
func (c *Config) FromEnv(getenv func(string) string) error {
	set := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	set("SECURECART_DATA_DIR", &c.DataDir)
	set("SECURECART_DATABASE", &c.Database)
	set("SECURECART_ROOT_KEY_PROVIDER", &c.RootKeyProvider)
	set("SECURECART_ROOT_KEY_FILE", &c.RootKeyFile)
	if v := getenv("SECURECART_CRYPTO_PERIOD"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("SECURECART_CRYPTO_PERIOD: %w", err)
		}
		c.CryptoPeriod = d
	}
	if err := c.auditFromEnv(getenv); err != nil {
		return err
	}
	return c.storageFromEnv(getenv)
}

// IsPostgres reports whether Database names a PostgreSQL database.
func (c *Config) IsPostgres() bool {
	return strings.HasPrefix(c.Database, "postgres://") || strings.HasPrefix(c.Database, "postgresql://") ||
		strings.Contains(c.Database, "host=")
}

// SQLitePath is the embedded database file.
func (c *Config) SQLitePath() string { return filepath.Join(c.DataDir, "securecart.db") }

// KeyFile is the root key file of the file provider.
func (c *Config) KeyFile() string {
	if c.RootKeyFile != "" {
		return c.RootKeyFile
	}
	return filepath.Join(c.DataDir, "root.key")
}

// Validate refuses settings that are wrong or unsafe.
func (c *Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data directory: required"))
	}
	if c.Database != "sqlite" && !c.IsPostgres() {
		errs = append(errs, fmt.Errorf("database: %q is neither \"sqlite\" nor a postgres:// DSN", c.Database))
	}
	switch c.RootKeyProvider {
	case ProviderFile, ProviderPassphrase:
	default:
		errs = append(errs, fmt.Errorf("root key provider: %q is not \"file\" or \"passphrase\"", c.RootKeyProvider))
	}
	if c.CryptoPeriod < 24*time.Hour {
		errs = append(errs, fmt.Errorf("crypto period: %s is under a day", c.CryptoPeriod))
	}
	if c.CryptoPeriod > 2*365*24*time.Hour {
		errs = append(errs, fmt.Errorf("crypto period: %s is over two years", c.CryptoPeriod))
	}
	if c.KeyCacheSize < 16 {
		errs = append(errs, errors.New("key cache size: at least 16"))
	}
	errs = append(errs, c.validateStorage()...)
	errs = append(errs, c.validateAudit()...)
	return errors.Join(errs...)
}

// RootKeyInDataDir reports whether the root key file lives in the data
// directory, which is fine on a laptop and discouraged in production.
func (c *Config) RootKeyInDataDir() bool {
	if c.RootKeyProvider != ProviderFile {
		return false
	}
	dir, err1 := filepath.Abs(c.DataDir)
	key, err2 := filepath.Abs(c.KeyFile())
	if err1 != nil || err2 != nil {
		return true
	}
	rel, err := filepath.Rel(dir, key)
	return err == nil && !strings.HasPrefix(rel, "..")
}

// EnsureDataDir creates the data directory with mode 0700 and refuses one
// that other users can read.
func (c *Config) EnsureDataDir() error {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	fi, err := os.Stat(c.DataDir)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("data directory %s is accessible to other users (mode %04o); run: chmod 700 %s",
			c.DataDir, fi.Mode().Perm(), c.DataDir)
	}
	return nil
}
