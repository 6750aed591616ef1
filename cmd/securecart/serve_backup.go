package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/backup"
	"github.com/securecart/securecart/internal/deploy"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/metrics"
	"github.com/securecart/securecart/internal/sqldb"
)

// backupJobs names the scheduled backup jobs in the audit trail.
var backupJobs = map[string]string{
	backup.JobSnapshot: audit.ActionSnapshot,
	backup.JobVerify:   audit.ActionVerifyBackup,
}

// startBackups builds the server's backup runner: shipping, snapshots,
// retention and the scheduled verification, each scheduled snapshot and
// verification recorded in trail. Its state goes to m. The caller runs it.
func startBackups(ctx context.Context, d *deploy.Deployment, trail audit.Appender, m *metrics.Metrics,
	log *slog.Logger) (*backup.Runner, error) {
	obj, err := deploy.OpenObjectsLater(ctx, d.Config)
	if obj == nil {
		return nil, err
	}
	if err != nil {
		log.Warn("object storage unreachable at start; backups will catch up once it answers", "err", err)
		go deploy.EnsureBucketsLater(ctx, obj, 10*time.Second)
	}
	// The verification's scratch database opens with the same root key;
	// a server cannot prompt, so a passphrase comes from the environment.
	provider := func(db sqldb.DB) (keys.Provider, error) {
		return deploy.Provider(d.Config, db, deploy.Options{Getenv: os.Getenv})
	}
	r, err := d.Backups(ctx, obj, log, provider, func(ctx context.Context, job string, run func(context.Context) error) error {
		return audit.Do(ctx, trail, audit.Action{Name: backupJobs[job], Resource: backupsRes,
			Principal: audit.System, Source: serveSource}, run)
	})
	if err != nil {
		return nil, err
	}
	m.ReadBackups(func() metrics.BackupReading {
		s := r.Shipper().Status()
		rd := metrics.BackupReading{Lag: s.Lag, Shipped: s.Shipped, Failures: s.Failures, LastSnapshot: s.LastSnapshot}
		if v, err := backup.LastVerify(context.Background(), d.DB); err == nil && v != nil {
			rd.LastVerify, rd.VerifyOK = v.At, v.OK
		}
		return rd
	})
	return r, nil
}
