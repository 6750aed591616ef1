package config

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"time"
)

// Object storage kinds.
const (
	StorageLocal = "local"
	StorageS3    = "s3"
)

// Environment variables that carry the S3 credentials. They are read only
// from the environment, never from the configuration file, so the file can
// be shared without the secret.
const (
	S3AccessKeyEnv = "SECURECART_S3_ACCESS_KEY"
	S3SecretKeyEnv = "SECURECART_S3_SECRET_KEY"
)

// Bounds of the backup settings.
const (
	MaxRetention    = 35 * 24 * time.Hour
	MinShipInterval = 100 * time.Millisecond
)

// StorageConfig is where objects (backups, audit segments, logs, archives)
// go.
type StorageConfig struct {
	// Kind is "local" (a folder, the default) or "s3".
	Kind string
	// Dir is the local folder; default DataDir/objects.
	Dir string
	// Endpoint, Region and BucketPrefix reach an S3-compatible service.
	Endpoint     string
	Region       string
	BucketPrefix string
	// AccessKey and SecretKey come from the environment only.
	AccessKey string
	SecretKey string
}

// BackupConfig is how the data is backed up.
type BackupConfig struct {
	// ShipInterval is the longest a committed change waits before it is
	// shipped (default 1s).
	ShipInterval time.Duration
	// SnapshotInterval is the time between full snapshots (default 24h);
	// the keystore is snapshotted on the same schedule and whenever its
	// keys change.
	SnapshotInterval time.Duration
	// Retention is the restore window (default 7 days, at most 35).
	Retention time.Duration
	// VerifyInterval is the time between two scheduled verifications of
	// the backups (default 7 days, at least an hour).
	VerifyInterval time.Duration
}

func defaultStorage() StorageConfig { return StorageConfig{Kind: StorageLocal} }

func defaultBackup() BackupConfig {
	return BackupConfig{ShipInterval: time.Second, SnapshotInterval: 24 * time.Hour,
		Retention: 7 * 24 * time.Hour, VerifyInterval: 7 * 24 * time.Hour}
}

// ObjectDir is the local object storage folder.
func (c *Config) ObjectDir() string {
	if c.Storage.Dir != "" {
		return c.Storage.Dir
	}
	return filepath.Join(c.DataDir, "objects")
}

func (c *Config) storageFromEnv(getenv func(string) string) error {
	set := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	set("SECURECART_STORAGE", &c.Storage.Kind)
	set("SECURECART_STORAGE_DIR", &c.Storage.Dir)
	set("SECURECART_S3_ENDPOINT", &c.Storage.Endpoint)
	set("SECURECART_S3_REGION", &c.Storage.Region)
	set("SECURECART_S3_BUCKET_PREFIX", &c.Storage.BucketPrefix)
	set(S3AccessKeyEnv, &c.Storage.AccessKey)
	set(S3SecretKeyEnv, &c.Storage.SecretKey)
	durations := []struct {
		name string
		dst  *time.Duration
	}{
		{"SECURECART_BACKUP_SHIP_INTERVAL", &c.Backup.ShipInterval},
		{"SECURECART_BACKUP_SNAPSHOT_INTERVAL", &c.Backup.SnapshotInterval},
		{"SECURECART_BACKUP_RETENTION", &c.Backup.Retention},
		{"SECURECART_BACKUP_VERIFY_INTERVAL", &c.Backup.VerifyInterval},
	}
	for _, d := range durations {
		if v := getenv(d.name); v != "" {
			p, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s: %w", d.name, err)
			}
			*d.dst = p
		}
	}
	return nil
}

func (c *Config) validateStorage() []error {
	var errs []error
	s := c.Storage
	switch s.Kind {
	case StorageLocal:
	case StorageS3:
		u, err := url.Parse(s.Endpoint)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			errs = append(errs, fmt.Errorf("storage: S3 endpoint %q is not an http(s) URL", s.Endpoint))
		} else if u.Scheme == "http" && u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" &&
			u.Hostname() != "::1" {
			errs = append(errs, fmt.Errorf("storage: S3 endpoint %q: plain http only to a loopback address", s.Endpoint))
		}
		if s.AccessKey == "" || s.SecretKey == "" {
			errs = append(errs, errors.New("storage: S3 needs "+S3AccessKeyEnv+" and "+S3SecretKeyEnv))
		}
	default:
		errs = append(errs, fmt.Errorf("storage: %q is neither \"local\" nor \"s3\"", s.Kind))
	}
	b := c.Backup
	if b.ShipInterval < MinShipInterval || b.ShipInterval > time.Minute {
		errs = append(errs, fmt.Errorf("backup ship interval: %s is outside 100ms..1m", b.ShipInterval))
	}
	if b.SnapshotInterval < time.Minute || b.SnapshotInterval > b.Retention {
		errs = append(errs, fmt.Errorf("backup snapshot interval: %s is under a minute or longer than the retention",
			b.SnapshotInterval))
	}
	if b.Retention < 24*time.Hour || b.Retention > MaxRetention {
		errs = append(errs, fmt.Errorf("backup retention: %s is outside 1 to 35 days", b.Retention))
	}
	if b.VerifyInterval < time.Hour || b.VerifyInterval > MaxRetention {
		errs = append(errs, fmt.Errorf("backup verify interval: %s is outside an hour to 35 days", b.VerifyInterval))
	}
	return errs
}

// fileStorage and fileBackup are the JSON forms of the sections.
type fileStorage struct {
	Kind         *string `json:"kind"`
	Dir          *string `json:"dir"`
	Endpoint     *string `json:"s3_endpoint"`
	Region       *string `json:"s3_region"`
	BucketPrefix *string `json:"s3_bucket_prefix"`
}

type fileBackup struct {
	ShipInterval     *string `json:"ship_interval"`
	SnapshotInterval *string `json:"snapshot_interval"`
	Retention        *string `json:"retention"`
	VerifyInterval   *string `json:"verify_interval"`
}

func (c *Config) applyStorage(s *fileStorage, b *fileBackup) error {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	if s != nil {
		set(&c.Storage.Kind, s.Kind)
		set(&c.Storage.Dir, s.Dir)
		set(&c.Storage.Endpoint, s.Endpoint)
		set(&c.Storage.Region, s.Region)
		set(&c.Storage.BucketPrefix, s.BucketPrefix)
	}
	if b == nil {
		return nil
	}
	for name, d := range map[string]struct {
		v   *string
		dst *time.Duration
	}{
		"ship_interval":     {b.ShipInterval, &c.Backup.ShipInterval},
		"snapshot_interval": {b.SnapshotInterval, &c.Backup.SnapshotInterval},
		"retention":         {b.Retention, &c.Backup.Retention},
		"verify_interval":   {b.VerifyInterval, &c.Backup.VerifyInterval},
	} {
		if d.v == nil {
			continue
		}
		p, err := time.ParseDuration(*d.v)
		if err != nil {
			return fmt.Errorf("backup.%s: %w", name, err)
		}
		*d.dst = p
	}
	return nil
}
