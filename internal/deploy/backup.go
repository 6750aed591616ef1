package deploy

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/securecart/securecart/internal/backup"
	"github.com/securecart/securecart/internal/config"
	"github.com/securecart/securecart/internal/objstore"
)

// OpenObjects opens the configured object storage: the local folder, or
// the S3 service with its buckets created if missing.
func OpenObjects(ctx context.Context, cfg config.Config) (objstore.Store, error) {
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
	if err := s.EnsureBuckets(ctx); err != nil {
		return nil, fmt.Errorf("object storage: %w", err)
	}
	return s, nil
}

// Shipper returns the deployment's backup shipper with the configured
// intervals and retention. Start it with its Run method.
func (d *Deployment) Shipper(ctx context.Context, obj objstore.Store, log *slog.Logger) (*backup.Shipper, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return backup.NewShipper(ctx, d.Store, d.Keys, obj, backup.Options{
		Interval:         d.Config.Backup.ShipInterval,
		SnapshotInterval: d.Config.Backup.SnapshotInterval,
		Retention:        d.Config.Backup.Retention,
		Logger:           log.With("subsystem", "backup"),
	})
}
