package deploy

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/securecart/securecart/internal/backup"
	"github.com/securecart/securecart/internal/config"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqlite"
)

// OpenObjects opens the configured object storage: the local folder, or
// the S3 service with its buckets created if missing.
func OpenObjects(ctx context.Context, cfg config.Config) (objstore.Store, error) {
	s, err := openObjects(cfg)
	if err != nil {
		return nil, err
	}
	if s3, ok := s.(*objstore.S3); ok {
		if err := s3.EnsureBuckets(ctx); err != nil {
			return nil, fmt.Errorf("object storage: %w", err)
		}
	}
	return s, nil
}

// OpenObjectsLater is OpenObjects for a server that must start while the
// S3 service is unreachable: when the buckets cannot be checked, it
// returns the store anyway with the error, and the shipper retries until
// the service answers.
func OpenObjectsLater(ctx context.Context, cfg config.Config) (objstore.Store, error) {
	s, err := openObjects(cfg)
	if err != nil {
		return nil, err
	}
	if s3, ok := s.(*objstore.S3); ok {
		if err := s3.EnsureBuckets(ctx); err != nil {
			return s, fmt.Errorf("object storage: %w", err)
		}
	}
	return s, nil
}

func openObjects(cfg config.Config) (objstore.Store, error) {
	if cfg.Storage.Kind != config.StorageS3 {
		if err := cfg.EnsureDataDir(); err != nil {
			return nil, err
		}
		return objstore.NewLocal(cfg.ObjectDir())
	}
	s, err := objstore.NewS3(objstore.S3Config{Endpoint: cfg.Storage.Endpoint, Region: cfg.Storage.Region,
		BucketPrefix: cfg.Storage.BucketPrefix, AccessKey: cfg.Storage.AccessKey, SecretKey: cfg.Storage.SecretKey})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// EnsureBucketsLater creates the S3 buckets once the service answers,
// trying every interval until ctx ends, after OpenObjectsLater could not.
func EnsureBucketsLater(ctx context.Context, obj objstore.Store, every time.Duration) {
	s3, ok := obj.(*objstore.S3)
	if !ok {
		return
	}
	for s3.EnsureBuckets(ctx) != nil {
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// Shipper returns the deployment's backup shipper with the configured
// intervals and retention. Start it with its Run method.
func (d *Deployment) Shipper(ctx context.Context, obj objstore.Store, log *slog.Logger) (*backup.Shipper, error) {
	return d.shipper(ctx, obj, log, nil)
}

func (d *Deployment) shipper(ctx context.Context, obj objstore.Store, log *slog.Logger,
	around func(context.Context, string, func(context.Context) error) error) (*backup.Shipper, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return backup.NewShipper(ctx, d.Store, d.Keys, obj, backup.Options{
		Interval:         d.Config.Backup.ShipInterval,
		SnapshotInterval: d.Config.Backup.SnapshotInterval,
		Retention:        d.Config.Backup.Retention,
		Logger:           log.With("subsystem", "backup"),
		Around:           around,
	})
}

// Backups returns the deployment's backup runner: the shipper, and the
// verification on the configured schedule, which restores into scratch
// SQLite databases under DATA_DIR/scratch, opened with provider's root
// key. around, if set, runs each scheduled snapshot and verification (see
// backup.Options). Start it with its Run method.
func (d *Deployment) Backups(ctx context.Context, obj objstore.Store, log *slog.Logger,
	provider func(sqldb.DB) (keys.Provider, error),
	around func(context.Context, string, func(context.Context) error) error) (*backup.Runner, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sh, err := d.shipper(ctx, obj, log, around)
	if err != nil {
		return nil, err
	}
	return backup.NewRunner(sh, obj, backup.RunnerOptions{
		VerifyInterval: d.Config.Backup.VerifyInterval,
		Scratch:        d.Scratch,
		Provider:       provider,
		Logger:         log.With("subsystem", "backup"),
	}), nil
}

// Scratch creates a new, empty SQLite database under DATA_DIR/scratch for
// a verification or a record restore, and returns it with a function that
// closes and removes it.
func (d *Deployment) Scratch(ctx context.Context) (sqldb.DB, func(), error) {
	if err := d.Config.EnsureDataDir(); err != nil {
		return nil, nil, err
	}
	parent := filepath.Join(d.Config.DataDir, "scratch")
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp(parent, "restore-")
	if err != nil {
		return nil, nil, err
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "securecart.db"), sqlite.Options{})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return db, func() {
		db.Close()
		os.RemoveAll(dir)
	}, nil
}
